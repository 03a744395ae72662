package inspect

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
)

// What cosign writes (v2.4.1). In --registry-referrers-mode=oci-1-1 the
// signature is an image manifest whose subject is the signed digest and
// whose artifact type is cosignSigArtifact; by default it is the same
// manifest under the tag sha256-<hex>.sig. Each layer is one signature; a
// keyless one carries its Fulcio certificate in certAnnotation.
const (
	cosignSigArtifact = "application/vnd.dev.cosign.artifact.sig.v1+json"
	// Newer cosign (--new-bundle-format) stores a sigstore bundle instead;
	// it is found, its identity is not read.
	sigstoreBundlePrefix = "application/vnd.dev.sigstore.bundle"
	certAnnotation       = "dev.sigstore.cosign/certificate"

	storageReferrers = "referrers"
	storageSigTag    = "sig-tag"
	// maxSigReads bounds the signature manifests read for identities: a
	// list signed again and again keeps every signature as a referrer.
	maxSigReads = 4
)

// sigFound is where a digest's signature was found, before identities.
type sigFound struct {
	state   release.SignatureState
	storage string
	bundle  bool
	// refs are the signature manifests ("repo@sha256:..."), to read for
	// identities.
	refs []string
	err  string
}

type sigLookup struct {
	once sync.Once
	sig  *release.Signature
}

// signatureOf looks up the signature of a complete tag's image m in repo,
// and of each of its children, once per repo and digest. Only the list's
// signature is read for identities: cosign sign --recursive signs the
// children in the same run with the same identity.
func (p *prober) signatureOf(ctx context.Context, repo string, m manifest.Manifest) *release.Signature {
	key := repo + "@" + m.Digest
	p.mu.Lock()
	if p.sigs == nil {
		p.sigs = map[string]*sigLookup{}
	}
	l, ok := p.sigs[key]
	if !ok {
		l = &sigLookup{}
		p.sigs[key] = l
	}
	p.mu.Unlock()
	l.once.Do(func() {
		sig := &release.Signature{}
		var children []string
		if m.IsList() {
			children = m.Children()
			sig.Children = make(map[string]release.ChildSignature, len(children))
		}
		found := make([]sigFound, len(children))
		var wg sync.WaitGroup
		for i, c := range children {
			wg.Add(1)
			go func() {
				defer wg.Done()
				found[i] = p.findSignature(ctx, repo, c)
			}()
		}
		f := p.findSignature(ctx, repo, m.Digest)
		sig.State, sig.Storage, sig.Error = f.state, f.storage, f.err
		if f.state == release.SigSigned && !f.bundle {
			p.readIdentities(ctx, f.refs, sig)
		}
		wg.Wait()
		for i, c := range children {
			sig.Children[c] = release.ChildSignature{State: found[i].state, Storage: found[i].storage, Error: found[i].err}
		}
		l.sig = sig
	})
	return l.sig.Clone()
}

// findSignature looks for a cosign signature of digest in repo: first as a
// referrer (CI's oci-1-1 mode), then under the sha256-<hex>.sig tag
// (cosign's default). A lookup that fails is "error", never "unsigned".
func (p *prober) findSignature(ctx context.Context, repo, digest string) sigFound {
	var refErr string
	ref, err := p.e.c.Reference(repo + "@" + digest)
	if err != nil {
		return sigFound{state: release.SigError, err: err.Error()}
	}
	d, _ := ref.(interface{ DigestStr() string })
	if d == nil {
		return sigFound{state: release.SigError, err: "not a digest: " + digest}
	}
	descs, err := p.e.c.Referrers(ctx, ref.Context().Digest(d.DigestStr()))
	if err != nil {
		refErr = "referrers: " + classText(err)
	}
	var f sigFound
	for _, desc := range descs {
		at := string(desc.ArtifactType)
		switch {
		case at == cosignSigArtifact:
		case strings.HasPrefix(at, sigstoreBundlePrefix):
			f.bundle = true
		default:
			continue
		}
		f.refs = append(f.refs, repo+"@"+desc.Digest.String())
	}
	if len(f.refs) > 0 {
		f.state, f.storage = release.SigSigned, storageReferrers
		return f
	}
	tag := strings.Replace(digest, ":", "-", 1) + ".sig"
	tref, err := p.e.c.Reference(repo + ":" + tag)
	if err != nil {
		return sigFound{state: release.SigError, err: err.Error()}
	}
	desc, err := p.e.c.Head(ctx, tref)
	switch {
	case err == nil:
		return sigFound{state: release.SigSigned, storage: storageSigTag, refs: []string{repo + "@" + desc.Digest.String()}}
	case registry.IsNotFound(err) && refErr == "":
		return sigFound{state: release.SigUnsigned}
	case registry.IsNotFound(err):
		return sigFound{state: release.SigError, err: refErr + "; no " + tag + " tag"}
	default:
		why := tag + ": " + classText(err)
		if refErr != "" {
			why = refErr + "; " + why
		}
		return sigFound{state: release.SigError, err: why}
	}
}

// readIdentities reads the signature manifests for the certificates' SANs
// and matches them against signing.identity_regex. A signature without a
// certificate was made with a key pair: there is no identity to check.
func (p *prober) readIdentities(ctx context.Context, refs []string, sig *release.Signature) {
	if len(refs) > maxSigReads {
		refs = refs[len(refs)-maxSigReads:]
	}
	certs := 0
	seen := map[string]bool{}
	for _, r := range refs {
		ref, err := p.e.c.Reference(r)
		if err != nil {
			sig.Error = err.Error()
			return
		}
		d, ok := ref.(name.Digest)
		if !ok {
			sig.Error = "signature is not named by digest: " + r
			return
		}
		// Found by its referrers entry or .sig tag: only the bytes are
		// wanted, and a signature's bytes never change.
		raw, err := p.e.c.ManifestBytes(ctx, d)
		if err != nil {
			sig.Error = "could not read the signature to tell who signed: " + classText(err)
			return
		}
		ids, n, err := SignatureIdentities(raw)
		if err != nil {
			sig.Error = fmt.Sprintf("signature %s: %v", manifest.Short(r[strings.LastIndexByte(r, '@')+1:]), err)
			return
		}
		certs += n
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				sig.Identities = append(sig.Identities, id)
			}
		}
	}
	sort.Strings(sig.Identities)
	if certs == 0 {
		sig.Key = true
		return
	}
	ok := false
	if re := p.identity; re != nil {
		for _, id := range sig.Identities {
			ok = ok || re.MatchString(id)
		}
	}
	sig.IdentityOK = &ok
}

// SignatureIdentities reads a cosign signature manifest: the SANs (URIs,
// emails, DNS names) of the certificates its layers carry, and how many
// layers carry one. A key-pair signature carries none.
func SignatureIdentities(raw []byte) (ids []string, certs int, err error) {
	var m struct {
		Layers []v1.Descriptor `json:"layers"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, 0, fmt.Errorf("not a signature manifest: %v", err)
	}
	for _, l := range m.Layers {
		p := l.Annotations[certAnnotation]
		if p == "" {
			continue
		}
		block, _ := pem.Decode([]byte(p))
		if block == nil {
			return nil, 0, fmt.Errorf("certificate annotation is not PEM")
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, 0, fmt.Errorf("certificate: %v", err)
		}
		certs++
		for _, u := range cert.URIs {
			ids = append(ids, u.String())
		}
		ids = append(ids, cert.EmailAddresses...)
		ids = append(ids, cert.DNSNames...)
	}
	return ids, certs, nil
}

// judgeSignatures adds the signature findings of a backend whose tags are
// judged: a complete list published unsigned (or with unsigned children),
// signed in one target but not another, and, as an impact, a user-facing
// tag signed by someone other than the expected identity: users verifying
// as the docs say fail.
func judgeSignatures(b *release.BackendReport, cfg release.Config) {
	var signedIn, unsignedIn []string
	for _, name := range targetNames(cfg, b) {
		ts := b.Targets[name]
		seen := map[string]bool{}
		signed, unsigned := false, false
		for _, tag := range ts.SortedTags() {
			st := ts.Tags[tag]
			sig := st.Signature
			if sig == nil || st.State != release.TagComplete {
				continue
			}
			if !seen[st.Digest] {
				seen[st.Digest] = true
				switch sig.State {
				case release.SigUnsigned:
					unsigned = true
					b.Problems = append(b.Problems, fmt.Sprintf("%s in %s: published but unsigned (%s); remerge repair --sign signs it as CI does", tag, name, manifest.Short(st.Digest)))
				case release.SigError:
					b.Problems = append(b.Problems, fmt.Sprintf("%s in %s: could not tell whether it is signed: %s", tag, name, sig.Error))
				case release.SigSigned:
					signed = true
					b.Problems = append(b.Problems, childSigProblems(tag, name, b, sig)...)
				}
			}
			if sig.State == release.SigSigned && st.Role != release.RoleSHA && sig.IdentityOK == nil && !sig.Key {
				continue // identity not read: nothing to say
			}
			if sig.State == release.SigSigned && st.Role != release.RoleSHA && !sig.Expected() {
				who := "with a key (no identity)"
				if !sig.Key {
					who = "by " + strings.Join(sig.Identities, ", ")
				}
				b.Impact = append(b.Impact, fmt.Sprintf("%s in %s: signed %s, not by the expected identity (%s): users verifying as the docs say fail", tag, name, who, cfg.Signing.IdentityRegex))
			}
		}
		if signed {
			signedIn = append(signedIn, name)
		}
		if unsigned {
			unsignedIn = append(unsignedIn, name)
		}
	}
	if len(signedIn) > 0 && len(unsignedIn) > 0 {
		b.Problems = append(b.Problems, fmt.Sprintf("signed in %s but not in %s", strings.Join(signedIn, ", "), strings.Join(unsignedIn, ", ")))
	}
}

// childSigProblems names the children of a signed list that are unsigned
// or could not be told, by platform where a leg names the digest.
func childSigProblems(tag, target string, b *release.BackendReport, sig *release.Signature) []string {
	plat := map[string]string{}
	for _, l := range b.Legs {
		plat[l.Digest] = l.PlatformTag
	}
	name := func(d string) string {
		if p := plat[d]; p != "" {
			return p + " " + manifest.Short(d)
		}
		return manifest.Short(d)
	}
	var unsigned, unknown []string
	_, bad := sig.ChildrenNotSigned()
	for _, d := range bad {
		if sig.Children[d].State == release.SigError {
			unknown = append(unknown, name(d)+" ("+sig.Children[d].Error+")")
		} else {
			unsigned = append(unsigned, name(d))
		}
	}
	var out []string
	if len(unsigned) > 0 {
		out = append(out, fmt.Sprintf("%s in %s: the list is signed but %d of its %d children are not: %s", tag, target, len(unsigned), len(sig.Children), strings.Join(unsigned, ", ")))
	}
	if len(unknown) > 0 {
		out = append(out, fmt.Sprintf("%s in %s: could not tell whether children are signed: %s", tag, target, strings.Join(unknown, ", ")))
	}
	return out
}
