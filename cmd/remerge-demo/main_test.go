package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runArgs runs remerge-demo in-process and returns exit code, stdout and
// stderr.
func runArgs(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestDemoWithoutTerminal: a piped remerge-demo prints the inspect table of
// the demo release and, the release being broken, exits 1 as inspect
// would.
func TestDemoWithoutTerminal(t *testing.T) {
	code, stdout, stderr := runArgs(t)
	if code != exitBroken {
		t.Fatalf("exit %d, want %d (broken release); stderr %q", code, exitBroken, stderr)
	}
	for _, want := range []string{"release v4.2.2", "-cpu-kokoro", "-cpu-vibevoice"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
}

// TestDemoUsageErrors: a stray argument or flag is exit 2 with one line.
func TestDemoUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"inspect"}, {"--bogus"}, {"--concurrency", "0"}} {
		code, stdout, stderr := runArgs(t, args...)
		if code != exitUsage || stdout != "" || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and one line", args, code, stdout, stderr)
		}
	}
}
func TestCommandFor(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(bin, "remerge")
	other := filepath.Join(dir, "elsewhere", "remerge")
	for _, p := range []string{exe, other} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "link-to-remerge")
	if err := os.Symlink(exe, link); err != nil {
		t.Fatal(err)
	}
	spaced := filepath.Join(dir, "my tools")
	if err := os.Mkdir(spaced, 0o755); err != nil {
		t.Fatal(err)
	}
	spacedExe := filepath.Join(spaced, "remerge")
	if err := os.WriteFile(spacedExe, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, exe, wd, onPath, want string
	}{
		{"make run: under the working dir", exe, dir, "", "bin/remerge"},
		{"in the working dir itself", exe, bin, "", "./remerge"},
		{"PATH finds this very binary", exe, dir, link, "remerge"},
		{"PATH finds another remerge", exe, dir, other, "bin/remerge"},
		{"outside the working dir", exe, filepath.Join(dir, "elsewhere"), "", exe},
		{"no working dir", exe, "", "", exe},
		{"a path needing quotes", spacedExe, filepath.Join(dir, "elsewhere"), "", "'" + spacedExe + "'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := commandFor(tt.exe, tt.wd, tt.onPath); got != tt.want {
				t.Errorf("commandFor(%q, %q, %q) = %q, want %q", tt.exe, tt.wd, tt.onPath, got, tt.want)
			}
		})
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/tmp/remerge-demo-1/remerge.yaml": "/tmp/remerge-demo-1/remerge.yaml",
		"/tmp/my dir/x":                    "'/tmp/my dir/x'",
		"it's":                             `'it'\''s'`,
		"":                                 "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}
