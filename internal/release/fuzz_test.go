package release

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseMatrix feeds arbitrary bytes to the matrix parser: it must never
// panic, and whatever it accepts must keep the invariants the engine relies
// on (exact, unique suffixes; legs with known platform-tags in order).
func FuzzParseMatrix(f *testing.F) {
	for _, name := range []string{"good.yml", "problems.yml", "bad.yml", "noinclude.yml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "matrix", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("include:\n"))
	f.Add([]byte("include: [{tag-suffix: -a, platform-tag: arm64}, {tag-suffix: -a, platform-tag: amd64}]\n"))
	f.Add([]byte("x: &a {tag-suffix: -a}\ninclude: [*a, *a]\nincludeDarwin: [*a]\n"))
	f.Add([]byte("include: !!map {}\n"))
	f.Add([]byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMatrix("fuzz.yml", b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "matrix fuzz.yml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, bk := range m.Backends {
			if len(bk.Suffix) == 0 || seen[bk.Suffix] {
				t.Fatalf("empty or repeated suffix %q", bk.Suffix)
			}
			seen[bk.Suffix] = true
			if got, ok := m.Backend(bk.Suffix); !ok || got.Suffix != bk.Suffix {
				t.Fatalf("Backend(%q) did not find it", bk.Suffix)
			}
			switch bk.Kind {
			case KindMultiarch:
				pair := len(bk.Legs) == 2 && bk.Legs[0].PlatformTag == "amd64" && bk.Legs[1].PlatformTag == "arm64"
				if !pair && len(bk.Legs) != 1 {
					t.Fatalf("multiarch legs %+v", bk.Legs)
				}
			case KindSingle, KindDarwin:
				if len(bk.Legs) != 1 || bk.Legs[0].PlatformTag != "single" {
					t.Fatalf("%s legs %+v", bk.Kind, bk.Legs)
				}
			default:
				t.Fatalf("kind %q", bk.Kind)
			}
			for _, l := range bk.Legs {
				if l.Platform == "" {
					t.Fatalf("leg without platform %+v", bk)
				}
			}
		}
		st := m.Stats()
		if st.Entries != m.Entries || st.Darwin != m.DarwinEntries || st.Suffixes > st.Entries {
			t.Fatalf("stats %+v for %d/%d entries", st, m.Entries, m.DarwinEntries)
		}
	})
}

// FuzzParseKeepalive checks that every accepted tag round-trips through
// KeepaliveTag and has the parts the grammar promises.
func FuzzParseKeepalive(f *testing.F) {
	for _, s := range []string{
		"keepalive-25745181433-cpu-kokoro-amd64",
		"keepalive-1-metal-darwin-arm64-llama-cpp-single",
		"keepalive-12--amd64",
		"keepalive--a-arm64",
		"cache-cpu-kokoro-amd64",
		"keepalive-0-0-single",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tag string) {
		k, ok := ParseKeepalive(tag)
		if !ok {
			if k != (Keepalive{}) {
				t.Fatalf("rejected tag returned %+v", k)
			}
			return
		}
		if back := KeepaliveTag(k.Run, k.Suffix, k.PlatformTag); back != tag {
			t.Fatalf("round trip %q -> %+v -> %q", tag, k, back)
		}
		if k.Run == "" || strings.Trim(k.Run, "0123456789") != "" {
			t.Fatalf("run %q is not digits", k.Run)
		}
		if len(k.Suffix) < 2 || k.Suffix[0] != '-' {
			t.Fatalf("suffix %q", k.Suffix)
		}
		switch k.PlatformTag {
		case "amd64", "arm64", "single":
		default:
			t.Fatalf("platform %q", k.PlatformTag)
		}
		runs := RunsInTags([]string{tag, tag})
		if len(runs) != 1 || runs[0].ID != k.Run || runs[0].Anchors != 1 {
			t.Fatalf("RunsInTags = %+v", runs)
		}
	})
}
