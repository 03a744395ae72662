package release

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestMatrixGood(t *testing.T) {
	t.Parallel()
	m, err := LoadMatrix("testdata/matrix/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	want := []BackendSpec{
		{Suffix: "-cpu-kokoro", Name: "kokoro", Kind: KindMultiarch, Line: 3,
			Legs: []LegSpec{{"amd64", "linux/amd64"}, {"arm64", "linux/arm64"}}},
		{Suffix: "-cpu-kokoros", Name: "kokoros", Kind: KindSingle, Line: 10,
			Legs: []LegSpec{{"single", "linux/amd64"}}},
		{Suffix: "-nvidia-l4t-diffusers", Name: "diffusers", Kind: KindSingle, Line: 21,
			Legs: []LegSpec{{"single", "linux/arm64"}}},
		{Suffix: "-gpu-nvidia-cuda-12-llama-cpp", Name: "llama-cpp", Kind: KindMultiarch, Line: 25,
			Legs: []LegSpec{{"arm64", "linux/arm64"}}},
		{Suffix: "-metal-darwin-arm64-diffusers", Name: "diffusers", Kind: KindDarwin, Line: 31,
			Legs: []LegSpec{{"single", "darwin/arm64"}}},
		{Suffix: "-metal-darwin-arm64-mlx", Name: "mlx", Kind: KindDarwin, Line: 34,
			Legs: []LegSpec{{"single", "darwin/arm64/v8"}}},
	}
	if !reflect.DeepEqual(m.Backends, want) {
		t.Errorf("backends:\n got %+v\nwant %+v", m.Backends, want)
	}
	wantStats := MatrixStats{Entries: 5, Suffixes: 4, Pairs: 1, OneLeg: 1, Darwin: 2, PrefixCollisions: 1}
	if got := m.Stats(); got != wantStats {
		t.Errorf("stats = %+v, want %+v", got, wantStats)
	}
	if len(m.Problems) != 0 {
		t.Errorf("matrix problems = %q, want none (a one-leg entry is no mistake)", m.Problems)
	}
	if m.Path != "testdata/matrix/good.yml" || m.DarwinEntries != 2 {
		t.Errorf("path %q darwin %d", m.Path, m.DarwinEntries)
	}
}

func TestMatrixBackendExactMatch(t *testing.T) {
	t.Parallel()
	m, err := LoadMatrix("testdata/matrix/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		suffix string
		found  bool
		kind   Kind
	}{
		{"-cpu-kokoro", true, KindMultiarch},
		{"-cpu-kokoros", true, KindSingle},
		{"-cpu-koko", false, ""},
		{"-cpu-kokoross", false, ""},
		{"cpu-kokoro", false, ""},
		{"", false, ""},
		{"-metal-darwin-arm64-mlx", true, KindDarwin},
	}
	for _, tt := range tests {
		t.Run(tt.suffix, func(t *testing.T) {
			b, ok := m.Backend(tt.suffix)
			if ok != tt.found || b.Kind != tt.kind || (ok && b.Suffix != tt.suffix) {
				t.Errorf("Backend(%q) = %+v, %v", tt.suffix, b, ok)
			}
		})
	}
}

func TestMatrixProblems(t *testing.T) {
	t.Parallel()
	m, err := LoadMatrix("testdata/matrix/problems.yml")
	if err != nil {
		t.Fatal(err)
	}
	// Every mistake is reported once, in matrix order, naming its line.
	wantProblems := []string{
		"-dup: matrix line 6: second entry with platform-tag amd64 (first at line 2); keeping the first",
		"matrix line 10: include entry has no tag-suffix; skipped",
		"-mixed: matrix line 14: mixes entries with and without platform-tag (first at line 12); entry skipped",
		`-odd: matrix line 17: platform-tag "riscv64" is not amd64 or arm64; entry skipped`,
		"-both: matrix line 23: suffix is in both include (line 20) and includeDarwin; darwin entry skipped",
		"matrix line 25: includeDarwin entry has no tag-suffix; skipped",
	}
	if !reflect.DeepEqual(m.Problems, wantProblems) {
		t.Errorf("problems:\n got %q\nwant %q", m.Problems, wantProblems)
	}
	tests := []struct {
		suffix   string
		kind     Kind
		legs     []LegSpec
		problems int
	}{
		{"-dup", KindMultiarch, []LegSpec{{"amd64", "linux/amd64"}}, 1},
		{"-mixed", KindSingle, []LegSpec{{"single", "linux/amd64"}}, 1},
		{"-both", KindSingle, []LegSpec{{"single", "linux/amd64"}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.suffix, func(t *testing.T) {
			b, ok := m.Backend(tt.suffix)
			if !ok {
				t.Fatalf("backend %s missing", tt.suffix)
			}
			if b.Kind != tt.kind || !reflect.DeepEqual(b.Legs, tt.legs) || len(b.Problems) != tt.problems {
				t.Errorf("got %+v", b)
			}
		})
	}
	if b, ok := m.Backend("-dup"); !ok || b.Name != "dup" {
		t.Errorf("duplicate must keep the first entry, got %+v", b)
	}
	if _, ok := m.Backend("-odd"); ok {
		t.Error("an entry with an unknown platform-tag must not make a backend")
	}
	if got := len(m.Backends); got != 3 {
		t.Errorf("%d backends, want 3", got)
	}
}

func TestMatrixErrors(t *testing.T) {
	t.Parallel()
	big := filepath.Join(t.TempDir(), "big.yml")
	if err := os.WriteFile(big, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// A sparse file: over the limit on disk without writing 32 MiB.
	if err := os.Truncate(big, MaxMatrixSize+1); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		want []string
	}{
		{"malformed yaml names file and line", "testdata/matrix/bad.yml",
			[]string{"matrix testdata/matrix/bad.yml:12: ", "mapping values"}},
		{"no include key", "testdata/matrix/noinclude.yml", []string{"noinclude.yml", "no include key"}},
		{"missing file", "testdata/matrix/absent.yml", []string{"matrix testdata/matrix/absent.yml"}},
		{"directory", "testdata/matrix", []string{"is a directory"}},
		{"over the size limit", big, []string{"big.yml", "over the"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := LoadMatrix(tt.path)
			if err == nil {
				t.Fatalf("no error, matrix %+v", m)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	if _, err := LoadMatrix("testdata/matrix/absent.yml"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file error %v does not wrap fs.ErrNotExist", err)
	}
}

func TestParseMatrixShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		yaml     string
		wantErr  string
		backends int
		problems int
	}{
		{"empty document", "", "no include key", 0, 0},
		{"top level list", "- a\n", "not a mapping", 0, 0},
		{"include not a list", "include: 3\n", "include is not a list", 0, 0},
		{"includeDarwin not a list", "include: []\nincludeDarwin: {a: 1}\n", "includeDarwin is not a list", 0, 0},
		{"null include", "include:\n", "", 0, 0},
		{"entry not a mapping", "include:\n  - just a string\n", "", 0, 1},
		{"tag-suffix not a scalar", "include:\n  - tag-suffix: [a]\n", "", 0, 1},
		{"no platforms", "include:\n  - tag-suffix: -x\n", "", 1, 1},
		{"platform mismatch", "include:\n  - {tag-suffix: -x, platform-tag: amd64, platforms: linux/arm64}\n", "", 1, 1},
		{"duplicate single", "include:\n  - {tag-suffix: -x, platforms: linux/amd64}\n  - {tag-suffix: -x, platforms: linux/arm64}\n", "", 1, 1},
		{"alias entry", "x: &e {tag-suffix: -a, platforms: linux/amd64}\ninclude:\n  - *e\n", "", 1, 0},
		{"over the limit", strings.Repeat(" ", MaxMatrixSize+1), "over the", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMatrix("m.yml", []byte(tt.yaml))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "m.yml") {
					t.Fatalf("err = %v, want one naming m.yml and containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Backends) != tt.backends || len(m.Problems) != tt.problems {
				t.Errorf("backends %+v problems %q", m.Backends, m.Problems)
			}
		})
	}
}

// TestMatrixReference reads LocalAI's real matrix (a copy of
// .github/backend-matrix.yml, in testdata/localai) and checks the numbers
// DESIGN.md gives.
func TestMatrixReference(t *testing.T) {
	t.Parallel()
	m, err := LoadMatrix("testdata/localai/backend-matrix.yml")
	if err != nil {
		t.Fatal(err)
	}
	want := MatrixStats{Entries: 457, Suffixes: 386, Pairs: 71, OneLeg: 3, Darwin: 62, PrefixCollisions: 40}
	if got := m.Stats(); got != want {
		t.Errorf("stats = %+v, want %+v", got, want)
	}
	if len(m.Problems) != 0 {
		t.Errorf("problems = %q, want none: the real matrix has no mistake (its 3 one-leg backends are merged into one-entry lists)", m.Problems)
	}
	b, ok := m.Backend("-cpu-kokoro")
	if !ok || b.Kind != KindMultiarch || len(b.Legs) != 2 || b.Legs[0].PlatformTag != "amd64" || b.Name != "kokoro" {
		t.Errorf("-cpu-kokoro = %+v", b)
	}
}
