package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestConfigPrecedence checks flags over the config file over the defaults,
// and that ./remerge.yaml is read when --config is not given.
func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "other.yaml")
	body := "matrix: from-file.yml\ninsecure: [\"file:5000\"]\n"
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, defaultConfigFile), []byte("matrix: from-default-file.yml\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)

	tests := []struct {
		name         string
		set          func(o *options)
		wantMatrix   string
		wantInsecure []string
	}{
		{"default file", func(*options) {}, "from-default-file.yml", nil},
		{"explicit file", func(o *options) { o.configFile = file }, "from-file.yml", []string{"file:5000"}},
		{"flags win", func(o *options) {
			o.configFile = file
			o.matrixFile = "flag.yml"
			o.insecure = []string{"flag:5000"}
		}, "flag.yml", []string{"file:5000", "flag:5000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOptions()
			tt.set(o)
			cfg, err := o.config()
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Matrix != tt.wantMatrix {
				t.Errorf("matrix %q, want %q", cfg.Matrix, tt.wantMatrix)
			}
			if !slices.Equal(cfg.Insecure, tt.wantInsecure) {
				t.Errorf("insecure %q, want %q", cfg.Insecure, tt.wantInsecure)
			}
			if len(cfg.Targets) != 2 || cfg.Anchor != "quay.io/go-skynet/ci-cache" {
				t.Errorf("LocalAI defaults lost: %+v", cfg)
			}
		})
	}
}
