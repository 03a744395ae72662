package inspect_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testkit/scenariotest"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
	"github.com/go-skynet/remerge/internal/testkit/tools"
)

// ciIdentity is what Fulcio writes into the certificate of LocalAI's merge
// job for a release tag.
const ciIdentity = "https://github.com/mudler/LocalAI/.github/workflows/backend_merge.yml@refs/tags/v4.2.2"

// TestInspectSignatures signs a seeded release with the real cosign v2.4.1,
// in CI's referrers mode and in cosign's default .sig tags, with a key and
// with a certificate naming an identity, and checks that inspect tells
// each state from what cosign really wrote. distribution does not serve
// the referrers API, so the referrers are found under the sha256-<hex>
// tag cosign falls back to.
func TestInspectSignatures(t *testing.T) {
	t.Parallel()
	ci := tools.NewCosignIdentityKit(t, ciIdentity)
	other := tools.NewCosignIdentityKit(t, "someone@example.com")
	key := tools.NewCosignKit(t)
	backends := []scenario.Backend{
		{Suffix: "-cpu-ci", Kind: release.KindMultiarch, Fate: scenario.Healthy},
		{Suffix: "-cpu-key", Kind: release.KindMultiarch, Fate: scenario.Healthy},
		{Suffix: "-cpu-none", Kind: release.KindMultiarch, Fate: scenario.Healthy},
		{Suffix: "-cpu-hubonly", Kind: release.KindMultiarch, Fate: scenario.Healthy},
		{Suffix: "-cpu-other", Kind: release.KindSingle, Fate: scenario.Healthy},
		{Suffix: "-cpu-flat", Kind: release.KindMultiarch, Fate: scenario.Healthy},
	}
	f := scenariotest.Start(t, backends, testreg.ImageOptions{})
	quay := func(sfx string) string { return f.Quay.Repo(scenario.QuayTarget) + "@" + f.Lists[sfx] }
	hub := func(sfx string) string { return f.Hub.Repo(scenario.HubTarget) + "@" + f.Lists[sfx] }
	ci.Sign(t, quay("-cpu-ci"), true, true)
	ci.Sign(t, hub("-cpu-ci"), true, true)
	key.Sign(t, quay("-cpu-key"), true, false)
	key.Sign(t, hub("-cpu-key"), true, false)
	ci.Sign(t, hub("-cpu-hubonly"), true, true)
	other.Sign(t, quay("-cpu-other"), true, false)
	other.Sign(t, hub("-cpu-other"), true, true)
	ci.Sign(t, quay("-cpu-flat"), false, true) // the list alone
	ci.Sign(t, hub("-cpu-flat"), true, true)

	c := registry.New(registry.Options{Keychain: authn.NewMultiKeychain()})
	t.Cleanup(c.Close)
	rel := f.Release
	rel.Run = "" // a healthy merge deleted its anchors
	rep, err := inspect.Run(context.Background(), rel, inspect.WithConfig(f.Config), inspect.WithMatrix(f.Matrix), inspect.WithClient(c), inspect.WithDigests(f.Digests))
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		state    release.SignatureState
		storage  string
		key      bool
		ok       string // "true", "false" or "" (no identity)
		children release.SignatureState
	}
	signedCI := want{release.SigSigned, "referrers", false, "true", release.SigSigned}
	wants := map[string]map[string]want{
		"-cpu-ci":      {"quay": signedCI, "dockerhub": signedCI},
		"-cpu-key":     {"quay": {release.SigSigned, "sig-tag", true, "", release.SigSigned}, "dockerhub": {release.SigSigned, "sig-tag", true, "", release.SigSigned}},
		"-cpu-none":    {"quay": {release.SigUnsigned, "", false, "", release.SigUnsigned}, "dockerhub": {release.SigUnsigned, "", false, "", release.SigUnsigned}},
		"-cpu-hubonly": {"quay": {release.SigUnsigned, "", false, "", release.SigUnsigned}, "dockerhub": signedCI},
		"-cpu-other":   {"quay": {release.SigSigned, "sig-tag", false, "false", release.SigSigned}, "dockerhub": {release.SigSigned, "referrers", false, "false", release.SigSigned}},
		"-cpu-flat":    {"quay": {release.SigSigned, "referrers", false, "true", release.SigUnsigned}, "dockerhub": signedCI},
	}
	for _, b := range rep.Backends {
		if b.Verdict != release.VerdictOK {
			t.Errorf("%s: verdict %s, want ok (signatures do not change it); problems %q", b.Suffix, b.Verdict, b.Problems)
		}
		for target, w := range wants[b.Suffix] {
			for tag, st := range b.Targets[target].Tags {
				sig := st.Signature
				if sig == nil {
					t.Errorf("%s %s %s: no signature looked up", b.Suffix, target, tag)
					continue
				}
				ok := ""
				if sig.IdentityOK != nil {
					ok = map[bool]string{true: "true", false: "false"}[*sig.IdentityOK]
				}
				if sig.State != w.state || sig.Storage != w.storage || sig.Key != w.key || ok != w.ok {
					t.Errorf("%s %s %s: signature %+v (identity_ok %q), want %+v", b.Suffix, target, tag, *sig, ok, w)
				}
				if len(sig.Children) != len(b.Legs) {
					t.Errorf("%s %s: %d children looked up, want %d", b.Suffix, target, len(sig.Children), len(b.Legs))
				}
				for d, cs := range sig.Children {
					if cs.State != w.children {
						t.Errorf("%s %s child %s: %s, want %s", b.Suffix, target, d, cs.State, w.children)
					}
				}
				if w.ok != "" && (len(sig.Identities) != 1 || !strings.Contains(ciIdentity+" someone@example.com", sig.Identities[0])) {
					t.Errorf("%s %s: identities %q", b.Suffix, target, sig.Identities)
				}
			}
		}
	}
	problems := map[string]string{}
	impacts := map[string]string{}
	for _, b := range rep.Backends {
		problems[b.Suffix] = strings.Join(b.Problems, "\n")
		impacts[b.Suffix] = strings.Join(b.Impact, "\n")
	}
	for sfx, frag := range map[string][]string{
		"-cpu-ci":      nil,
		"-cpu-none":    {"v4.2.2-cpu-none in quay: published but unsigned", "v4.2.2-cpu-none in dockerhub: published but unsigned"},
		"-cpu-hubonly": {"v4.2.2-cpu-hubonly in quay: published but unsigned", "signed in dockerhub but not in quay"},
		"-cpu-flat":    {"v4.2.2-cpu-flat in quay: the list is signed but 2 of its 2 children are not"},
	} {
		if frag == nil && strings.Contains(problems[sfx], "sign") {
			t.Errorf("%s: problems %q, want none about signatures", sfx, problems[sfx])
		}
		for _, s := range frag {
			if !strings.Contains(problems[sfx], s) {
				t.Errorf("%s: problems %q, want %q", sfx, problems[sfx], s)
			}
		}
	}
	if strings.Contains(problems["-cpu-none"], "signed in") {
		t.Errorf("-cpu-none: %q: signed nowhere, so not 'signed in one target but not the other'", problems["-cpu-none"])
	}
	for sfx, frag := range map[string]string{
		"-cpu-other": "latest-cpu-other in quay: signed by someone@example.com, not by the expected identity",
		"-cpu-key":   "latest-cpu-key in dockerhub: signed with a key (no identity)",
	} {
		if !strings.Contains(impacts[sfx], frag) {
			t.Errorf("%s: impact %q, want %q", sfx, impacts[sfx], frag)
		}
	}
	if impacts["-cpu-ci"] != "" {
		t.Errorf("-cpu-ci: impact %q, want none", impacts["-cpu-ci"])
	}
}
