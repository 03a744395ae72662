package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-skynet/remerge/internal/release"
)

// -update-format rewrites the golden files of the report renderers. The flag
// has its own name, as it once shared a package with other golden tests.
var updateFormat = flag.Bool("update-format", false, "rewrite internal/report/testdata/format golden files")

const (
	fmtAnchor = "quay.io/go-skynet/ci-cache"
	fmtQuay   = "quay.io/go-skynet/local-ai-backends"
	fmtHub    = "docker.io/localai/localai-backends"
	fmtD1     = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	fmtD2     = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	fmtOld    = "sha256:9999999999999999999999999999999999999999999999999999999999999999"
)

func fmtCells(anchor, quay, hub release.Cell) map[string]release.Cell {
	return map[string]release.Cell{fmtAnchor: anchor, fmtQuay: quay, fmtHub: hub}
}

func fmtTarget(repo string, rel release.TagState, latest release.TagState) *release.TargetStatus {
	t := &release.TargetStatus{Repo: repo, State: rel, Tags: map[string]release.TagStatus{
		"v4.2.2-x": {State: rel, Role: release.RoleRelease},
	}}
	if latest != "" {
		st := release.TagStatus{State: latest, Role: release.RoleLatest, Digest: fmtOld}
		if latest != release.TagComplete {
			st.UserImpact = string(latest) // as inspect's judge gives it
		}
		t.Tags["latest-x"] = st
	}
	return t
}

// fmtReport is a hand-built report using every cell state, tag state,
// verdict and kind, a suffix longer than any table column, and problem text
// with characters markdown must escape.
func fmtReport() *release.Report {
	present := release.Cell{State: release.CellPresent}
	missing := release.Cell{State: release.CellMissing}
	r := &release.Report{
		Release: release.Release{Ref: "v4.2.2", Run: "25745181433", SHA: "abc1234"},
		Repos: []release.Repo{
			{Repo: fmtAnchor, Role: release.RoleAnchor},
			{Repo: fmtQuay, Role: release.RoleTarget, Name: "quay"},
			{Repo: fmtHub, Role: release.RoleTarget, Name: "dockerhub"},
		},
		Backends: []*release.BackendReport{
			{
				Suffix: "-cpu-kokoro", Name: "kokoro", Kind: release.KindMultiarch, Verdict: release.VerdictRepairable,
				Legs: []release.Leg{
					{PlatformTag: "amd64", Platform: "linux/amd64", Digest: fmtD1, DigestFrom: release.FromAnchor,
						Size: 1234, MediaType: "application/vnd.docker.distribution.manifest.v2+json",
						Cells: fmtCells(present, missing, present)},
					{PlatformTag: "arm64", Platform: "linux/arm64", Digest: fmtD2, DigestFrom: release.FromDigests,
						Cells: fmtCells(present, release.Cell{State: release.CellPresent, MissingBlobs: []string{fmtOld}}, present)},
				},
				Targets: map[string]*release.TargetStatus{
					"quay":      fmtTarget(fmtQuay, release.TagMissing, release.TagStale),
					"dockerhub": fmtTarget(fmtHub, release.TagComplete, release.TagComplete),
				},
				Problems: []string{"amd64 manifest reaped from quay.io/go-skynet/local-ai-backends; still in ci-cache"},
				Impact:   []string{"latest-cpu-kokoro in quay: stale"},
			},
			{
				Suffix: "-nvidia-l4t-cuda-13-arm64-stablediffusion-ggml", Kind: release.KindSingle, Verdict: release.VerdictUnrepairable,
				Legs: []release.Leg{{PlatformTag: "single", Platform: "linux/arm64", Digest: fmtD1, DigestFrom: release.FromPublished,
					Cells: fmtCells(missing, release.Cell{State: release.CellDenied, Error: "401 UNAUTHORIZED"}, release.Cell{State: release.CellError, Error: "dial tcp: i/o timeout"})}},
				Targets: map[string]*release.TargetStatus{
					"quay":      fmtTarget(fmtQuay, release.TagDangling, release.TagDenied),
					"dockerhub": fmtTarget(fmtHub, release.TagError, ""),
				},
				Problems: []string{"single manifest present nowhere: rebuild it | <needs CI>"},
			},
			{
				Suffix: "-gpu-vulkan-whisper", Kind: release.KindMultiarch, Verdict: release.VerdictConflict,
				Legs: []release.Leg{
					{PlatformTag: "amd64", Platform: "linux/amd64", Digest: fmtD1, DigestFrom: release.FromAnchor, Cells: fmtCells(present, present, present)},
					{PlatformTag: "arm64", Platform: "linux/arm64", Digest: fmtD2, DigestFrom: release.FromAnchor, Cells: fmtCells(present, present, release.Cell{State: release.CellPending})},
				},
				Targets: map[string]*release.TargetStatus{
					"quay":      fmtTarget(fmtQuay, release.TagStale, release.TagPartial),
					"dockerhub": fmtTarget(fmtHub, release.TagPending, release.TagPending),
				},
				Problems: []string{"v4.2.2-gpu-vulkan-whisper in quay points to a complete list of other digests"},
			},
			{
				Suffix: "-cpu-llama", Kind: release.KindMultiarch, Verdict: release.VerdictUnknown,
				Legs: []release.Leg{
					{PlatformTag: "amd64", Platform: "linux/amd64", Cells: fmtCells(release.Cell{State: release.CellUnknown}, release.Cell{State: release.CellUnknown}, release.Cell{State: release.CellUnknown})},
					{PlatformTag: "arm64", Platform: "linux/arm64", Cells: map[string]release.Cell{fmtAnchor: {State: release.CellUnknown}}},
				},
				Targets: map[string]*release.TargetStatus{
					"quay":      fmtTarget(fmtQuay, release.TagPartial, release.TagMissing),
					"dockerhub": fmtTarget(fmtHub, release.TagMissing, release.TagMissing),
				},
				Problems: []string{"no digest found for amd64 or arm64"},
			},
			{
				Suffix: "-cpu-kokoros", Kind: release.KindSingle, Verdict: release.VerdictOK,
				Legs: []release.Leg{{PlatformTag: "single", Platform: "linux/amd64", Digest: fmtD2, DigestFrom: release.FromAnchor,
					Cells: fmtCells(present, present, present)}},
				Targets: map[string]*release.TargetStatus{
					"quay":      fmtTarget(fmtQuay, release.TagComplete, release.TagComplete),
					"dockerhub": fmtTarget(fmtHub, release.TagComplete, release.TagComplete),
				},
			},
			{
				Suffix: "-metal-darwin-arm64-whisper", Kind: release.KindDarwin, Verdict: release.VerdictOK,
				Legs: []release.Leg{{PlatformTag: "single", Platform: "darwin/arm64", Digest: fmtD1, DigestFrom: release.FromPublished,
					Cells: fmtCells(release.Cell{State: release.CellMissing}, present, present)}},
				Targets: map[string]*release.TargetStatus{
					"quay":      fmtTarget(fmtQuay, release.TagComplete, ""),
					"dockerhub": fmtTarget(fmtHub, release.TagComplete, ""),
				},
			},
		},
		Problems: []string{"matrix: -cpu-foo has platform-tag amd64 but no arm64 leg"},
	}
	yes := true
	signed := &release.Signature{State: release.SigSigned, Storage: "referrers", IdentityOK: &yes,
		Identities: []string{"https://github.com/mudler/LocalAI/.github/workflows/backend_merge.yml@refs/tags/v4.2.2"},
		Children:   map[string]release.ChildSignature{fmtD1: {State: release.SigSigned}, fmtD2: {State: release.SigSigned}}}
	setSig(r.Backends[0].Targets["dockerhub"], signed)
	kokoros := r.Backends[4]
	setSig(kokoros.Targets["quay"], &release.Signature{State: release.SigUnsigned, Children: map[string]release.ChildSignature{fmtD2: {State: release.SigUnsigned}}})
	setSig(kokoros.Targets["dockerhub"], &release.Signature{State: release.SigSigned, Storage: "sig-tag", Key: true, Children: map[string]release.ChildSignature{fmtD2: {State: release.SigSigned}}})
	kokoros.Problems = []string{"v4.2.2-x in quay: published but unsigned (sha256:2222222222)", "signed in dockerhub but not in quay"}
	kokoros.Impact = []string{"v4.2.2-x in dockerhub: signed with a key (no identity), not by the expected identity"}
	for _, b := range r.Backends {
		r.Summary.Add(b.Verdict)
	}
	return r
}

// setSig gives a target's release tag a signature.
func setSig(t *release.TargetStatus, sig *release.Signature) {
	ts := t.Tags["v4.2.2-x"]
	ts.Signature = sig
	t.Tags["v4.2.2-x"] = ts
}

// Each signature state has its own mark; a child unsigned or unknown
// outranks who signed the list.
func TestSignatureMark(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	kids := func(st release.SignatureState) map[string]release.ChildSignature {
		return map[string]release.ChildSignature{fmtD1: {State: release.SigSigned}, fmtD2: {State: st}}
	}
	for _, tt := range []struct {
		sig  *release.Signature
		want Mark
	}{
		{&release.Signature{State: release.SigSigned, IdentityOK: &yes, Children: kids(release.SigSigned)}, MarkSigned},
		{&release.Signature{State: release.SigSigned, IdentityOK: &no, Children: kids(release.SigSigned)}, MarkOther},
		{&release.Signature{State: release.SigSigned, Key: true}, MarkOther},
		{&release.Signature{State: release.SigSigned, IdentityOK: &yes, Children: kids(release.SigUnsigned)}, MarkPartly},
		{&release.Signature{State: release.SigSigned, IdentityOK: &yes, Children: kids(release.SigError)}, MarkSigError},
		{&release.Signature{State: release.SigSigned, Error: "could not read the signature"}, MarkSigError},
		{&release.Signature{State: release.SigUnsigned}, MarkUnsigned},
		{&release.Signature{State: release.SigError, Error: "503"}, MarkSigError},
	} {
		tgt := fmtTarget(fmtQuay, release.TagComplete, "")
		setSig(tgt, tt.sig)
		if got, ok := SignatureMark(tgt); !ok || got != tt.want {
			t.Errorf("%+v: mark %v, want %v", *tt.sig, got, tt.want)
		}
	}
	if _, ok := SignatureMark(fmtTarget(fmtQuay, release.TagMissing, "")); ok {
		t.Error("a tag with no signature looked up has a mark")
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "format", name)
	if *updateFormat {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden %s (run with -update-format to create): %v", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden (run with -update-format to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestFormatGolden(t *testing.T) {
	tests := []struct {
		name  string
		write func(*bytes.Buffer, *release.Report) error
	}{
		{"report.json", func(b *bytes.Buffer, r *release.Report) error { return WriteJSON(b, r) }},
		{"report.md", func(b *bytes.Buffer, r *release.Report) error { return WriteMarkdown(b, r) }},
		{"report.github", func(b *bytes.Buffer, r *release.Report) error { return WriteGitHub(b, r) }},
		{"report-100.txt", func(b *bytes.Buffer, r *release.Report) error { return WriteTable(b, r, 100) }},
		{"report-80.txt", func(b *bytes.Buffer, r *release.Report) error { return WriteTable(b, r, 80) }},
		{"report-160.txt", func(b *bytes.Buffer, r *release.Report) error { return WriteTable(b, r, 160) }},
		{"empty.txt", func(b *bytes.Buffer, _ *release.Report) error {
			return WriteTable(b, &release.Report{Release: release.Release{Ref: "master"}}, 100)
		}},
		{"empty.json", func(b *bytes.Buffer, _ *release.Report) error {
			return WriteJSON(b, &release.Report{Release: release.Release{Ref: "master"}})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tt.write(&buf, fmtReport()); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.name, buf.Bytes())
		})
	}
}

// TestTableFitsWidth checks every table row stays within the width asked
// for and that every suffix is printed whole: the suffix is the backend's
// identity, so other columns give way, never it.
func TestTableFitsWidth(t *testing.T) {
	for _, width := range []int{60, 80, 100, 120} {
		t.Run(strconv.Itoa(width), func(t *testing.T) {
			r := fmtReport()
			var buf bytes.Buffer
			if err := WriteTable(&buf, r, width); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(buf.String(), "\n")
			for i, line := range lines {
				// At 60 the other columns alone are wider: the suffix
				// still stays whole, the row is allowed to run over.
				if n := utf8.RuneCountInString(line); n > width && width >= 80 {
					t.Errorf("line %d is %d runes wide, want <= %d: %q", i+1, n, width, line)
				}
			}
			for _, b := range r.Backends {
				found := false
				for _, line := range lines {
					found = found || line == b.Suffix || strings.HasPrefix(line, b.Suffix+" ")
				}
				if !found {
					t.Errorf("no table line starts with the whole suffix %s:\n%s", b.Suffix, buf.String())
				}
			}
			if strings.Contains(buf.String(), "…") {
				t.Errorf("something was cut:\n%s", buf.String())
			}
		})
	}
}

// TestJSONContract decodes the JSON generically and checks the field names
// of DESIGN.md section 9, so a renamed json tag fails here and not in a
// maintainer's script.
func TestJSONContract(t *testing.T) {
	r := fmtReport()
	r.Backends[0].Problems = nil // must still be written as []
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("not one JSON document: %v", err)
	}
	obj := func(v any) map[string]any { m, _ := v.(map[string]any); return m }
	arr := func(v any) []any { a, _ := v.([]any); return a }
	tests := []struct {
		name string
		m    map[string]any
		keys []string
	}{
		{"top", doc, []string{"release", "summary", "repos", "backends", "problems"}},
		{"release", obj(doc["release"]), []string{"ref", "run", "sha"}},
		{"summary", obj(doc["summary"]), []string{"ok", "repairable", "unrepairable", "conflict", "unknown"}},
		{"backend", obj(arr(doc["backends"])[0]), []string{"suffix", "name", "kind", "verdict", "legs", "targets", "problems", "impact"}},
		{"leg", obj(arr(obj(arr(doc["backends"])[0])["legs"])[0]), []string{"platform_tag", "platform", "digest", "digest_from", "size", "media_type", "cells"}},
		{"cell", obj(obj(obj(arr(obj(arr(doc["backends"])[0])["legs"])[1])["cells"])[fmtQuay]), []string{"state", "missing_blobs"}},
		{"target", obj(obj(obj(arr(doc["backends"])[0])["targets"])["quay"]), []string{"repo", "state", "tags"}},
		{"tag", obj(obj(obj(obj(obj(arr(doc["backends"])[0])["targets"])["quay"])["tags"])["latest-x"]), []string{"state", "digest", "role"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.m == nil {
				t.Fatalf("object missing in:\n%s", buf.String())
			}
			for _, k := range tt.keys {
				if _, ok := tt.m[k]; !ok {
					t.Errorf("key %q missing; have %v", k, tt.m)
				}
			}
		})
	}
	if p, ok := obj(arr(doc["backends"])[0])["problems"].([]any); !ok || len(p) != 0 {
		t.Errorf("nil problems written as %v, want []", obj(arr(doc["backends"])[0])["problems"])
	}
	if r.Backends[0].Problems != nil {
		t.Error("WriteJSON modified the caller's report")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestFormatWriteErrors makes sure a failed write is reported, not dropped.
func TestFormatWriteErrors(t *testing.T) {
	for name, write := range map[string]func() error{
		"json":     func() error { return WriteJSON(failWriter{}, fmtReport()) },
		"table":    func() error { return WriteTable(failWriter{}, fmtReport(), 100) },
		"markdown": func() error { return WriteMarkdown(failWriter{}, fmtReport()) },
		"github":   func() error { return WriteGitHub(failWriter{}, fmtReport()) },
		"outputs":  func() error { return WriteGitHubOutputs(failWriter{}, fmtReport()) },
	} {
		t.Run(name, func(t *testing.T) {
			if err := write(); err == nil {
				t.Error("want an error from a failing writer")
			}
		})
	}
}

// TestSummaryLineCountsInWords: one backend is "1 backend".
func TestSummaryLineCountsInWords(t *testing.T) {
	r := fmtReport()
	r.Backends = r.Backends[:1]
	if got := summaryLine(r); !strings.HasPrefix(got, "1 backend: ") {
		t.Errorf("summaryLine = %q", got)
	}
	r = fmtReport()
	if got := summaryLine(r); !strings.HasPrefix(got, fmt.Sprintf("%d backends: ", len(r.Backends))) {
		t.Errorf("summaryLine = %q", got)
	}
}
