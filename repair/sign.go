package repair

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
)

// ciSignArgs is what CI's merge job runs to sign what it published, the
// children included (.github/workflows/backend_merge.yml, cosign v2.4.1).
var ciSignArgs = []string{"sign", "--yes", "--recursive", "--registry-referrers-mode=oci-1-1"}

// SignCommand is CI's signing command for repo@digest, as printed for a
// person to run.
func SignCommand(repo, digest string) string {
	return "cosign " + strings.Join(ciSignArgs, " ") + " " + repo + "@" + digest
}

// Signer signs a published list the way CI does, by running cosign.
// cosign runs in its own environment (the process's: keyless OIDC tokens,
// COSIGN_PASSWORD, its Docker config), plus COSIGN_EXPERIMENTAL=1, which
// cosign v2.4.1 requires for --registry-referrers-mode=oci-1-1. remerge
// passes it no credential of its own and prints none.
type Signer struct {
	// Path is the cosign binary; "" finds cosign on PATH.
	Path string
	// Key, when set, signs with this key pair (--key) instead of keyless.
	Key string
	// Args are more cosign flags, after CI's and before the image (for
	// example --tlog-upload=false, --allow-http-registry).
	Args []string
}

// Bin returns the cosign binary that will run, or why there is none.
func (s *Signer) Bin() (string, error) {
	if s.Path != "" {
		return s.Path, nil
	}
	p, err := exec.LookPath("cosign")
	if err != nil {
		return "", errors.New("cosign not found on PATH (install cosign v2.4.1: go install github.com/sigstore/cosign/v2/cmd/cosign@v2.4.1)")
	}
	return p, nil
}

// Argv is the cosign command line (without the binary) for repo@digest:
// CI's, then --key and the extra Args.
func (s *Signer) Argv(repo, digest string) []string {
	argv := append([]string(nil), ciSignArgs...)
	if s.Key != "" {
		argv = append(argv, "--key", s.Key)
	}
	argv = append(argv, s.Args...)
	return append(argv, repo+"@"+digest)
}

// Sign runs cosign on repo@digest and returns an error carrying the end of
// cosign's output when it fails.
func (s *Signer) Sign(ctx context.Context, repo, digest string) error {
	bin, err := s.Bin()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, bin, s.Argv(repo, digest)...)
	cmd.Env = append(os.Environ(), "COSIGN_EXPERIMENTAL=1")
	cmd.Stdin = nil      // never prompt: --yes, and a key's password comes from COSIGN_PASSWORD
	var out bytes.Buffer // kept for the error only
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("signing %s@%s: cosign: %v: %s", repo, digest, err, registry.Redact(lastLines(out.String(), 3)))
	}
	return nil
}

// lastLines keeps the end of a command's output for an error message.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}

// WithSign makes Execute sign the list, children included, with s once
// its tags read back, or, for a plan with nothing to do, the list already
// in place (the caller passes it when that list is unsigned). A failed
// signing fails the Execute; the audit line records either way.
func WithSign(s *Signer) Option {
	return func(o *options) { o.signer = s }
}

// signResult runs the signer on what the release's tags name once Execute
// is done, and records the outcome.
func signResult(ctx context.Context, o options, r *Result) error {
	for _, d := range signDigests(r) {
		if err := o.signer.Sign(ctx, r.Plan.Repo, d); err != nil {
			r.SignError = err.Error()
			return err
		}
		r.SignedDigests = append(r.SignedDigests, d)
	}
	r.Signed = true
	return nil
}

// signDigests are the images to sign: only what this run published or
// verified as this release. That is what the release (or branch) tag
// names when the plan left it on an equivalent image (a bare manifest from
// older buildx), and the list written, when a tag moved to it; never what
// a tag left on another build names (a branch tag holding a newer build).
func signDigests(r *Result) []string {
	var out []string
	add := func(d string) {
		if d != "" && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	for _, t := range r.Plan.Tags {
		if t.Role != release.RoleRelease && t.Role != release.RoleBranch {
			continue
		}
		switch {
		case t.Skip == "":
			add(t.To)
		case t.Same:
			add(t.From)
		}
	}
	if r.ListWritten || len(r.TagsMoved) > 0 {
		add(r.Plan.ListDigest)
	}
	return out
}

// NeedsSignature reports whether b's complete release (or branch) tag in
// target is unsigned, or names an unsigned child, as inspect found it:
// what --sign signs although nothing needs re-merging.
func NeedsSignature(b *release.BackendReport, target string) bool {
	return b.Targets[target].ReleaseSignature().NeedsSigning()
}
