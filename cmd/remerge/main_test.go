package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// runArgs runs remerge in-process and returns exit code, stdout and stderr.
func runArgs(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestUsageErrors checks that every mistake in flags, config or inputs
// exits 2 with one line on stderr naming the input at fault, and prints
// nothing on stdout.
func TestUsageErrors(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "digests-file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	const m = "--matrix=testdata/matrix.yml"
	tests := []struct {
		name string
		args []string
		want []string // substrings of the one stderr line
	}{
		{"missing release", []string{"inspect", m}, []string{"--release"}},
		{"bad format", []string{"inspect", "--release", "v1", m, "--format", "yaml"}, []string{`--format "yaml"`, "table, json, markdown or github"}},
		{"bad fail-on", []string{"inspect", "--release", "v1", m, "--fail-on", "stale-latest,bogus"}, []string{`--fail-on "bogus"`, "missing, stale, stale-latest"}},
		{"empty fail-on", []string{"inspect", "--release", "v1", m, "--fail-on", ""}, []string{"--fail-on", "empty condition"}},
		{"json-file in a missing dir", []string{"inspect", "--release", "v1", m, "--json-file", "testdata/no-such-dir/r.json"}, []string{"--json-file", "testdata/no-such-dir/r.json"}},
		{"sign-key without sign", []string{"repair", "--release", "v1", m, "--all", "--sign-key", "k"}, []string{"--sign-key", "--sign"}},
		{"sign-key missing", []string{"repair", "--release", "v1", m, "--all", "--sign", "--sign-key", "testdata/no-such.key"}, []string{"--sign-key testdata/no-such.key"}},
		{"bad identity regex", []string{"inspect", "--release", "v1", "--config", "testdata/bad-identity.yaml"}, []string{"testdata/bad-identity.yaml", "signing.identity_regex"}},
		{"repair bad format", []string{"repair", "--release", "v1", m, "--all", "--format", "json"}, []string{`--format "json"`, "text or github"}},
		{"negative width", []string{"inspect", "--release", "v1", m, "--width", "-3"}, []string{"--width -3"}},
		{"bad run", []string{"inspect", "--release", "v1", m, "--run", "12a"}, []string{`--run "12a"`, "digits"}},
		{"bad sha", []string{"inspect", "--release", "v1", m, "--sha", "xyz"}, []string{`--sha "xyz"`}},
		{"zero concurrency", []string{"inspect", "--release", "v1", m, "--concurrency", "0"}, []string{"--concurrency 0"}},
		{"zero timeout", []string{"inspect", "--release", "v1", m, "--timeout", "0s"}, []string{"--timeout 0s"}},
		{"unknown config key", []string{"inspect", "--release", "v1", "--config", "testdata/bad-key.yaml"}, []string{"testdata/bad-key.yaml", "targetz"}},
		{"missing config", []string{"inspect", "--release", "v1", "--config", "testdata/nope.yaml"}, []string{"testdata/nope.yaml"}},
		{"missing matrix", []string{"inspect", "--release", "v1", "--matrix", "testdata/nope.yml"}, []string{"matrix testdata/nope.yml"}},
		{"default matrix missing", []string{"inspect", "--release", "v1"}, []string{".github/backend-matrix.yml"}},
		{"malformed matrix", []string{"inspect", "--release", "v1", "--matrix", "testdata/bad-matrix.yml"}, []string{"testdata/bad-matrix.yml"}},
		{"digests not a dir", []string{"inspect", "--release", "v1", m, "--digests", notDir}, []string{notDir, "not a directory"}},
		{"digests missing", []string{"inspect", "--release", "v1", m, "--digests", "testdata/no-such-dir"}, []string{"testdata/no-such-dir"}},
		{"unknown backend", []string{"inspect", "--release", "v1", m, "--backend", "-cpu-aa"}, []string{`"-cpu-aa"`, "testdata/matrix.yml"}},
		{"backend by prefix", []string{"inspect", "--release", "v1", m, "--backend", "-cpu"}, []string{`"-cpu"`}},
		{"unknown flag", []string{"inspect", "--bogus"}, []string{"--bogus"}},
		{"unknown command", []string{"frobnicate"}, []string{`"frobnicate"`}},
		{"inspect args", []string{"inspect", "extra", "--release", "v1"}, []string{`"extra"`}},
		{"repair nothing", []string{"repair", "--release", "v1", m}, []string{"--all"}},
		{"repair both", []string{"repair", "--release", "v1", m, "--all", "--", "-cpu-a"}, []string{"not both"}},
		{"repair unknown suffix", []string{"repair", "--release", "v1", m, "--", "-cpu-z"}, []string{`"-cpu-z"`}},
		{"repair suffix without dash", []string{"repair", "--release", "v1", m, "cpu-z"}, []string{`"cpu-z"`}},
		{"repair darwin without dash", []string{"repair", "--release", "v1", m, "metal-darwin-arm64-c"}, []string{"darwin"}},
		{"repair darwin", []string{"repair", "--release", "v1", m, "--", "-metal-darwin-arm64-c"}, []string{"darwin"}},
		{"repair unknown target", []string{"repair", "--release", "v1", m, "--all", "--target", "ghcr"}, []string{`--target "ghcr"`, "quay, dockerhub"}},
		{"repair unknown target to create", []string{"repair", "--release", "v1", m, "--all", "--create-target", "ghcr"}, []string{`--create-target "ghcr"`, "quay, dockerhub"}},
		{"tui without release", []string{"tui", m}, []string{"--release"}},
		{"root without release", []string{m}, []string{"--release"}},
		{"repair missing release", []string{"repair", "--all", m}, []string{"--release"}},
		{"inspect empty matrix", []string{"inspect", "--release", "v1", "--matrix", "testdata/empty-matrix.yml"}, []string{"testdata/empty-matrix.yml", "no backend"}},
		{"repair suffix read as flags", []string{"repair", "--release", "v1", m, "-cpu-kokoro"}, []string{"-cpu-kokoro", "cpu-kokoro", "-- -cpu-kokoro"}},
		{"inspect backend read as flags", []string{"inspect", "--release", "v1", m, "-cpu-a"}, []string{"-cpu-a", "-- -cpu-a"}},
		{"release with a space", []string{"inspect", "--release", "v4.2.2 bad", m}, []string{`--release "v4.2.2 bad"`, "space"}},
		{"release with ..", []string{"inspect", "--release", "v4..2", m}, []string{`--release "v4..2"`}},
		{"release with a colon", []string{"repair", "--all", "--release", "v4:2", m}, []string{`--release "v4:2"`}},
		{"release ending in .lock", []string{"tui", "--release", "main.lock", m}, []string{`--release "main.lock"`}},
		{"repair empty matrix", []string{"repair", "--all", "--yes", "--release", "v1", "--matrix", "testdata/empty-matrix.yml"}, []string{"testdata/empty-matrix.yml", "no backend"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DOCKER_CONFIG", t.TempDir())
			code, stdout, stderr := runArgs(t, tt.args...)
			if code != exitUsage {
				t.Errorf("exit code %d, want %d; stderr %q", code, exitUsage, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout not empty: %q", stdout)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
				t.Errorf("stderr is not exactly one line: %q", stderr)
			}
			if !strings.HasPrefix(stderr, "remerge: ") {
				t.Errorf("stderr %q does not start with %q", stderr, "remerge: ")
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not name %q", stderr, w)
				}
			}
		})
	}
}

func TestVersion(t *testing.T) {
	code, stdout, stderr := runArgs(t, "version")
	if code != exitOK || stderr != "" || !strings.HasPrefix(stdout, "remerge ") {
		t.Errorf("version: code %d stdout %q stderr %q", code, stdout, stderr)
	}
}

func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"inspect", "--help"}, {"repair", "-h"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stdout, _ := runArgs(t, args...)
			if code != exitOK || !strings.Contains(stdout, "Usage:") {
				t.Errorf("code %d, stdout %q", code, stdout)
			}
		})
	}
}

// TestHelpNamesArguments: pflag takes a back-quoted word in a usage string
// as the argument's name, so a back-quoted command in a usage string turns
// "--digests DIR" into "--digests gh run download ...". Every flag's
// argument name must be one word.
func TestHelpNamesArguments(t *testing.T) {
	root := newRootCmd(newOptions(), io.Discard, io.Discard)
	cmds := []*cobra.Command{root}
	for i := 0; i < len(cmds); i++ {
		cmds = append(cmds, cmds[i].Commands()...)
	}
	for _, c := range cmds {
		for _, fs := range []*pflag.FlagSet{c.Flags(), c.PersistentFlags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				if name, _ := pflag.UnquoteUsage(f); strings.ContainsAny(name, " '<*") {
					t.Errorf("%s --%s: argument name %q", c.CommandPath(), f.Name, name)
				}
			})
		}
	}
	_, stdout, _ := runArgs(t, "--help")
	if !strings.Contains(stdout, "--digests DIR") {
		t.Errorf("--help does not show --digests DIR:\n%s", stdout)
	}
}

// TestReleaseRefNames: the refs LocalAI uses are accepted.
func TestReleaseRefNames(t *testing.T) {
	for _, ref := range []string{"v4.2.2", "master", "feature/x", "v4.2.2-rc1", "release_1"} {
		if why := badRefName(ref); why != "" {
			t.Errorf("badRefName(%q) = %q, want accepted", ref, why)
		}
	}
}

func TestOneLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"config x: unmarshal errors:\n  line 2: field targetz not found\n", "config x: unmarshal errors: line 2: field targetz not found"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := oneLine(tt.in); got != tt.want {
				t.Errorf("oneLine(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
