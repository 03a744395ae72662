package release

import (
	"reflect"
	"testing"
)

func TestReleaseTags(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	tests := []struct {
		name string
		rel  Release
		want []TagRef
	}{
		{"semver with sha", Release{Ref: "v4.2.2", SHA: "abc1234def"}, []TagRef{
			{"v4.2.2-cpu-kokoro", RoleRelease},
			{"sha-abc1234-cpu-kokoro", RoleSHA},
			{"latest-cpu-kokoro", RoleLatest},
		}},
		{"semver without sha", Release{Ref: "v4.2.2"}, []TagRef{
			{"v4.2.2-cpu-kokoro", RoleRelease},
			{"latest-cpu-kokoro", RoleLatest},
		}},
		{"semver without v", Release{Ref: "4.2.2"}, []TagRef{
			{"4.2.2-cpu-kokoro", RoleRelease},
			{"latest-cpu-kokoro", RoleLatest},
		}},
		{"branch with sha", Release{Ref: "master", SHA: "0123456789abcdef"}, []TagRef{
			{"master-cpu-kokoro", RoleBranch},
			{"sha-0123456-cpu-kokoro", RoleSHA},
		}},
		{"branch without sha", Release{Ref: "master"}, []TagRef{{"master-cpu-kokoro", RoleBranch}}},
		{"prerelease never moves latest", Release{Ref: "v4.3.0-rc1"}, []TagRef{{"v4.3.0-rc1-cpu-kokoro", RoleRelease}}},
		{"short sha kept whole", Release{Ref: "master", SHA: "abc"}, []TagRef{
			{"master-cpu-kokoro", RoleBranch},
			{"sha-abc-cpu-kokoro", RoleSHA},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cfg.ReleaseTags(tt.rel, "-cpu-kokoro"); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ReleaseTags = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestIsSemver(t *testing.T) {
	t.Parallel()
	for ref, want := range map[string]bool{
		"v4.2.2": true, "4.2.2": true, "v4.2.2-rc1": true, "master": false, "": false, "v4.2.2.1": false, "release/v4": false,
	} {
		t.Run(ref, func(t *testing.T) {
			if got := IsSemver(ref); got != want {
				t.Errorf("IsSemver(%q) = %v", ref, got)
			}
		})
	}
}

func TestNewerRelease(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	tests := []struct {
		name   string
		ref    string
		suffix string
		tags   []string
		want   string
	}{
		{"none", "v4.2.2", "-cpu-kokoro", nil, ""},
		{"newer of our suffix", "v4.2.2", "-cpu-kokoro", []string{"v4.2.1-cpu-kokoro", "v4.2.3-cpu-kokoro", "v4.10.0-cpu-kokoro", "v4.3.0-cpu-kokoro"}, "v4.10.0-cpu-kokoro"},
		{"prefix-colliding longer suffix ignored", "v4.2.2", "-cpu-kokoro", []string{"v4.3.0-cpu-kokoros"}, ""},
		{"longer suffix sees only its own", "v4.2.2", "-cpu-kokoros", []string{"v4.3.0-cpu-kokoro", "v4.2.5-cpu-kokoros"}, "v4.2.5-cpu-kokoros"},
		{"suffix that ends another suffix ignored", "v4.2.2", "-kokoro", []string{"v4.3.0-cpu-kokoro"}, ""},
		{"prerelease ignored", "v4.2.2", "-cpu-kokoro", []string{"v4.3.0-rc1-cpu-kokoro"}, ""},
		{"build metadata ignored", "v4.2.2", "-cpu-kokoro", []string{"v4.3.0+x-cpu-kokoro"}, ""},
		{"older and equal ignored", "v4.2.2", "-cpu-kokoro", []string{"v4.2.2-cpu-kokoro", "v4.2.0-cpu-kokoro", "v3.9.9-cpu-kokoro"}, ""},
		{"equal spelled short ignored", "v4.2.0", "-cpu-kokoro", []string{"v4.2-cpu-kokoro"}, ""},
		{"other roles ignored", "v4.2.2", "-cpu-kokoro", []string{"latest-cpu-kokoro", "master-cpu-kokoro", "sha-abc1234-cpu-kokoro", "-cpu-kokoro"}, ""},
		{"without v", "v4.2.2", "-cpu-kokoro", []string{"4.2.3-cpu-kokoro"}, "4.2.3-cpu-kokoro"},
		{"branch release never has newer", "master", "-cpu-kokoro", []string{"v9.0.0-cpu-kokoro"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cfg.NewerRelease(Release{Ref: tt.ref}, tt.suffix, tt.tags); got != tt.want {
				t.Errorf("NewerRelease(%s, %s) = %q, want %q", tt.ref, tt.suffix, got, tt.want)
			}
		})
	}
}

// TestNewerReleaseTemplate checks a release template that puts text, or the
// suffix itself, before the ref.
func TestNewerReleaseTemplate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tpl  string
		tags []string
		want string
	}{
		{"release-{ref}{suffix}", []string{"release-v4.3.0-cpu", "v4.4.0-cpu"}, "release-v4.3.0-cpu"},
		{"{suffix}-{ref}", []string{"-cpu-v4.3.0", "-cpus-v4.4.0"}, "-cpu-v4.3.0"},
	}
	for _, tt := range tests {
		t.Run(tt.tpl, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Tags.Release = tt.tpl
			if got := cfg.NewerRelease(Release{Ref: "v4.2.2"}, "-cpu", tt.tags); got != tt.want {
				t.Errorf("NewerRelease = %q, want %q", got, tt.want)
			}
		})
	}
}
