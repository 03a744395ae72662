package inspect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReadDigestsDir builds a folder from newline-separated relative paths
// (a trailing slash makes a folder) and checks that reading it never fails
// and only returns well-formed digests.
func FuzzReadDigestsDir(f *testing.F) {
	f.Add("digests-cpu-kokoro--amd64/" + strings.Repeat("a", 64))
	f.Add("digests-a--single/" + strings.Repeat("0", 64) + "\ndigests-a--single/" + strings.Repeat("1", 64))
	f.Add("digests-a--arm64/\nREADME\ndigests---amd64/x")
	f.Add("digests-a---amd64/" + strings.Repeat("f", 64) + "/")
	f.Fuzz(func(t *testing.T, spec string) {
		dir := t.TempDir()
		lines := strings.Split(spec, "\n")
		if len(lines) > 32 {
			lines = lines[:32]
		}
		for _, p := range lines {
			if !fuzzDigestsPathOK(p) {
				continue
			}
			full := filepath.Join(dir, filepath.FromSlash(p))
			if strings.HasSuffix(p, "/") {
				_ = os.MkdirAll(full, 0o755)
				continue
			}
			if os.MkdirAll(filepath.Dir(full), 0o755) == nil {
				_ = os.WriteFile(full, nil, 0o644)
			}
		}
		d, err := ReadDigestsDir(dir)
		if err != nil {
			t.Fatalf("ReadDigestsDir: %v", err)
		}
		for suffix, legs := range d.Digests {
			if len(suffix) < 2 || suffix[0] != '-' {
				t.Fatalf("suffix %q", suffix)
			}
			for ptag, dg := range legs {
				if ptag != "amd64" && ptag != "arm64" && ptag != "single" {
					t.Fatalf("platform-tag %q", ptag)
				}
				if hex, ok := strings.CutPrefix(dg, "sha256:"); !ok || !digestsIsHex64(hex) {
					t.Fatalf("digest %q", dg)
				}
			}
		}
		for _, p := range d.Problems {
			if !strings.HasPrefix(p, dir) {
				t.Fatalf("problem %q does not name a path", p)
			}
		}
	})
}

// fuzzDigestsPathOK keeps generated paths inside the temp dir and within
// what file systems accept.
func fuzzDigestsPathOK(p string) bool {
	if p == "" || len(p) > 200 || strings.ContainsAny(p, "\x00\\:") || filepath.IsAbs(p) {
		return false
	}
	for _, part := range strings.Split(strings.TrimSuffix(p, "/"), "/") {
		if part == "" || part == "." || part == ".." || len(part) > 100 {
			return false
		}
	}
	return true
}
