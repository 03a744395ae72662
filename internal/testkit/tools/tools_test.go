package tools

import (
	"os"
	"regexp"
	"testing"
)

// The Makefile installs the versions this package names.
func TestMakefilePinsTheSameVersions(t *testing.T) {
	mk, err := os.ReadFile("../../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range []Tool{Buildx, Cosign, Actionlint} {
		name := map[string]string{"buildx": "BUILDX", "cosign": "COSIGN", "actionlint": "ACTIONLINT"}[tool.Name]
		mod := regexp.MustCompile(`(?m)^` + name + `_MODULE\s*:=\s*(\S+)$`).FindSubmatch(mk)
		ver := regexp.MustCompile(`(?m)^` + name + `_VERSION\s*:=\s*(\S+)$`).FindSubmatch(mk)
		if mod == nil || ver == nil || string(mod[1]) != tool.Module || string(ver[1]) != tool.Version {
			t.Errorf("Makefile pins %s as %q@%q, internal/testkit/tools as %s@%s", tool.Name, mod, ver, tool.Module, tool.Version)
		}
	}
}
