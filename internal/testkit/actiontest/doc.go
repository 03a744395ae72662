// Package actiontest holds the tests of remerge's GitHub Action (action.yml
// at the repository root) and of examples/localai-self-heal.yml: they are
// linted with the real actionlint, and their shell steps, read from the
// YAML rather than copied, are run with bash against loopback registries
// holding a broken release, with the environment a GitHub runner gives a
// step. The package has no code of its own.
//
// How a step is run: the `run:` script goes to `bash --noprofile --norc -eo
// pipefail` (GitHub's `shell: bash`), its `env:` with the ${{ }}
// expressions the harness knows (inputs, github, steps.<id>.outputs and
// outcome) filled in, and GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_PATH
// and RUNNER_TEMP pointing at temp files. The remerge binary is built from
// this tree and put first on PATH; the action runs with `install: false`
// (as a user with remerge preinstalled would), so its install steps, the
// ones whose `if:` requires inputs.install, are skipped as GitHub would
// skip them. `uses:` steps of the example (checkout, download-artifact,
// logins, cosign, upload) are not run: the test lays out what they would
// leave behind (the digests folder, a remerge.yaml pointing at the loopback
// registries in the working directory).
package actiontest
