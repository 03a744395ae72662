package release

import (
	"reflect"
	"testing"
)

func TestParseKeepalive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tag  string
		want Keepalive
		ok   bool
	}{
		{"keepalive-25745181433-cpu-kokoro-amd64", Keepalive{"25745181433", "-cpu-kokoro", "amd64"}, true},
		{"keepalive-25745181433-cpu-kokoros-arm64", Keepalive{"25745181433", "-cpu-kokoros", "arm64"}, true},
		{"keepalive-1-metal-darwin-arm64-llama-cpp-single", Keepalive{"1", "-metal-darwin-arm64-llama-cpp", "single"}, true},
		{"keepalive-7-gpu-nvidia-cuda-12-llama-cpp-amd64", Keepalive{"7", "-gpu-nvidia-cuda-12-llama-cpp", "amd64"}, true},
		{"keepalive-7-x-amd64-arm64", Keepalive{"7", "-x-amd64", "arm64"}, true},
		{"keepalive-7-12-arm64", Keepalive{"7", "-12", "arm64"}, true},
		{"keepalive-007-a-single", Keepalive{"007", "-a", "single"}, true},
		{"cache-cpu-kokoro-amd64", Keepalive{}, false},
		{"keepalive--cpu-kokoro-amd64", Keepalive{}, false},     // no run id
		{"keepalive-12a-cpu-amd64", Keepalive{}, false},         // run id not digits
		{"keepalive-12-amd64", Keepalive{}, false},              // no suffix
		{"keepalive-12--amd64", Keepalive{}, false},             // suffix is only a dash
		{"keepalive-12-cpu-kokoro-riscv64", Keepalive{}, false}, // unknown platform
		{"keepalive-12-cpu-kokoro", Keepalive{}, false},         // no platform
		{"keepalive-12-cpu-kokoroamd64", Keepalive{}, false},    // platform not a word
		{"Keepalive-12-cpu-amd64", Keepalive{}, false},
		{"v4.2.2-cpu-kokoro", Keepalive{}, false},
		{"", Keepalive{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.tag, func(t *testing.T) {
			got, ok := ParseKeepalive(tt.tag)
			if ok != tt.ok || got != tt.want {
				t.Fatalf("ParseKeepalive(%q) = %+v, %v; want %+v, %v", tt.tag, got, ok, tt.want, tt.ok)
			}
			if ok {
				if back := KeepaliveTag(got.Run, got.Suffix, got.PlatformTag); back != tt.tag {
					t.Errorf("KeepaliveTag round trip = %q", back)
				}
			}
		})
	}
}

func TestRunsInTags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tags []string
		want []AnchorRun
	}{
		{"none", nil, []AnchorRun{}},
		{"only cache and other tags", []string{"cache-cpu-kokoro-amd64", "latest", "keepalive-x-a-amd64"}, []AnchorRun{}},
		{
			"grouped newest first, numerically",
			[]string{
				"keepalive-999-cpu-a-amd64",
				"keepalive-25745181433-cpu-kokoro-amd64",
				"keepalive-25745181433-cpu-kokoro-arm64",
				"cache-cpu-kokoro-amd64",
				"keepalive-1000-cpu-a-single",
				"keepalive-25745181433-cpu-kokoros-single",
				"keepalive-25745181433-cpu-kokoro-amd64", // listed twice, counted once
			},
			[]AnchorRun{{"25745181433", 3}, {"1000", 1}, {"999", 1}},
		},
		{"leading zeros compare as numbers", []string{"keepalive-0010-a-amd64", "keepalive-9-a-amd64"}, []AnchorRun{{"0010", 1}, {"9", 1}}},
		{"ids past int64", []string{"keepalive-99999999999999999999-a-amd64", "keepalive-100000000000000000000-a-amd64"},
			[]AnchorRun{{"100000000000000000000", 1}, {"99999999999999999999", 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RunsInTags(tt.tags); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("RunsInTags = %+v, want %+v", got, tt.want)
			}
		})
	}
}
