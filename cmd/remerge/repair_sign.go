package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/repair"
)

// signFlags are repair's signing flags: --sign runs CI's cosign command on
// what was published, --sign-key and --cosign-arg adapt it to a key pair
// or a registry CI never meets.
type signFlags struct {
	sign       bool
	signKey    string
	cosignArgs []string
	signer     *repair.Signer // set by check when --sign
}

// addFlags registers --sign, --sign-key and --cosign-arg (repair, tui).
func (f *signFlags) addFlags(fl *pflag.FlagSet) {
	fl.BoolVar(&f.sign, "sign", false, "sign each repaired list and its children with CI's command (cosign sign --yes --recursive --registry-referrers-mode=oci-1-1) once its tags read back, and any complete list left unsigned; cosign from PATH, in its own environment")
	fl.StringVar(&f.signKey, "sign-key", "", "with --sign: sign with this cosign key pair (--key) instead of keyless; its password comes from COSIGN_PASSWORD")
	fl.StringArrayVar(&f.cosignArgs, "cosign-arg", nil, "with --sign: one more cosign flag, after CI's (repeatable), e.g. --cosign-arg=--tlog-upload=false")
}

// check validates the signing flags before any registry is contacted:
// cosign must be on PATH and the key readable.
func (f *signFlags) check() error {
	if !f.sign {
		if f.signKey != "" || len(f.cosignArgs) > 0 {
			return usagef("--sign-key and --cosign-arg need --sign")
		}
		return nil
	}
	if f.signKey != "" {
		if _, err := os.Stat(f.signKey); err != nil {
			return usagef("--sign-key %s: %v", f.signKey, err)
		}
	}
	f.signer = &repair.Signer{Key: f.signKey, Args: f.cosignArgs}
	if _, err := f.signer.Bin(); err != nil {
		return usagef("--sign: %v", err)
	}
	return nil
}

// options adds WithSign to the repair options when --sign was given.
// cosign's own output is kept for its error message only.
func (f *signFlags) options() []repair.Option {
	if f.signer == nil {
		return nil
	}
	return []repair.Option{repair.WithSign(f.signer)}
}

// wantsAny reports whether --sign should sign b in some target although
// nothing needs re-merging (its complete release tag is unsigned, or a
// child is): an ok backend --all plans only then. The plan itself says
// which target (Plan.SignOnly).
func (f *signFlags) wantsAny(b *release.BackendReport) bool {
	for name := range b.Targets {
		if f.sign && repair.NeedsSignature(b, name) {
			return true
		}
	}
	return false
}

// dryRun says what --sign would run for a plan.
func (f *signFlags) dryRun(w io.Writer, p *repair.Plan) {
	if f.signer == nil {
		return
	}
	fmt.Fprintf(w, "%s in %s: then --sign runs cosign %s (on what the release tag names)\n", p.Suffix, p.Target, strings.Join(f.signer.Argv(p.Repo, "<digest>"), " "))
}
