package main

import (
	"strings"
	"testing"
)

// TestDemoPointsAtItsBinary: `remerge demo` (with or without the flags it
// used to take) is a usage error naming where the demo went.
func TestDemoPointsAtItsBinary(t *testing.T) {
	for _, args := range [][]string{{"demo"}, {"demo", "--serve"}} {
		code, stdout, stderr := runArgs(t, args...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, "remerge-demo") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and one line naming remerge-demo", args, code, stdout, stderr)
		}
	}
}
