package inspect

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var (
	hexA = strings.Repeat("a", 64)
	hexB = strings.Repeat("b", 64)
	hexC = strings.Repeat("c", 64)
	hexM = strings.Repeat("0123456789abcdef", 4)
)

func TestReadDigestsDirFixture(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "digests", "run")
	d, err := ReadDigestsDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{
		"-cpu-kokoro":                   {"amd64": "sha256:" + hexA, "arm64": "sha256:" + hexM},
		"-cpu-kokoros":                  {"single": "sha256:" + hexB},
		"-metal-darwin-arm64-llama-cpp": {"single": "sha256:" + hexC},
	}
	if !reflect.DeepEqual(d.Digests, want) {
		t.Errorf("digests = %v, want %v", d.Digests, want)
	}
	// Each piece of junk is named by its path, in name order.
	p := func(s string) string { return filepath.Join(dir, s) }
	wantProblems := []string{
		p("README.txt") + ": not a digests<suffix>--<amd64|arm64|single> artifact folder; ignored",
		p("digests-conflict--amd64") + ": conflicting digest files " + hexA + ", " + hexB + "; no digest taken",
		p("digests-cpu-x--riscv64") + ": not a digests<suffix>--<amd64|arm64|single> artifact folder; ignored",
		p("digests-file--amd64") + ": not a folder; ignored",
		p("digests-junkname--arm64/"+strings.ToUpper(hexA)) + ": not named by a 64-hex digest; ignored",
		p("digests-junkname--arm64/README") + ": not named by a 64-hex digest; ignored",
		p("digests-junkname--arm64") + ": no digest file",
		p("notes") + ": not a digests<suffix>--<amd64|arm64|single> artifact folder; ignored",
	}
	if !reflect.DeepEqual(d.Problems, wantProblems) {
		t.Errorf("problems:\n got %q\nwant %q", d.Problems, wantProblems)
	}
	if dg, ok := d.Digest("-cpu-kokoro", "arm64"); !ok || dg != "sha256:"+hexM {
		t.Errorf("Digest = %q, %v", dg, ok)
	}
	if _, ok := d.Digest("-cpu-kokor", "arm64"); ok {
		t.Error("Digest matched a suffix by prefix")
	}
}

// digestsTree makes a folder from "path" entries; a trailing slash makes a
// folder.
func digestsTree(t *testing.T, paths ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range paths {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestReadDigestsDirCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		paths    []string
		digests  int // legs with a digest
		problems []string
	}{
		{"empty dir", nil, 0, nil},
		{"one leg", []string{"digests-a--single/" + hexA}, 1, nil},
		{"empty artifact folder", []string{"digests-a--amd64/"}, 0, []string{"no digest file"}},
		{"folder in artifact", []string{"digests-a--amd64/" + hexA + "/"}, 0, []string{"not a regular file", "no digest file"}},
		{"short hex", []string{"digests-a--amd64/" + hexA[:63]}, 0, []string{"not named by a 64-hex digest", "no digest file"}},
		{"sha256: prefix in name", []string{"digests-a--amd64/sha256:" + hexA}, 0, []string{"not named by", "no digest file"}},
		{"suffix only a dash", []string{"digests---amd64/" + hexA}, 0, []string{"not a digests"}},
		{"no suffix dash", []string{"digestsa--amd64/" + hexA}, 0, []string{"not a digests"}},
		{"single dash before platform", []string{"digests-a-amd64/" + hexA}, 0, []string{"not a digests"}},
		{"suffix ending in dash", []string{"digests-a---arm64/" + hexA}, 1, nil},
		{"top-level digest file", []string{hexA}, 0, []string{"not a digests"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := ReadDigestsDir(digestsTree(t, tt.paths...))
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, legs := range d.Digests {
				n += len(legs)
			}
			if n != tt.digests || len(d.Problems) != len(tt.problems) {
				t.Fatalf("digests %v problems %q", d.Digests, d.Problems)
			}
			for i, w := range tt.problems {
				if !strings.Contains(d.Problems[i], w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, d.Problems[i], w)
				}
			}
		})
	}
}

func TestReadDigestsDirTooManyFiles(t *testing.T) {
	t.Parallel()
	var paths []string
	for i := range maxDigestsArtifactList + 1 {
		paths = append(paths, fmt.Sprintf("digests-a--amd64/%064x", i))
	}
	d, err := ReadDigestsDir(digestsTree(t, paths...))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Digests) != 0 || len(d.Problems) != 1 || !strings.Contains(d.Problems[0], "more than") {
		t.Errorf("digests %v problems %q", d.Digests, d.Problems)
	}
}

func TestReadDigestsDirErrors(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir, want string
		notExist        bool
	}{
		{"absent", filepath.Join(t.TempDir(), "nope"), "nope", true},
		{"a file", file, "not a directory", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadDigestsDir(tt.dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "digests ") {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if tt.notExist != errors.Is(err, fs.ErrNotExist) {
				t.Errorf("errors.Is(err, fs.ErrNotExist) = %v", !tt.notExist)
			}
		})
	}
}
