package release

import (
	"slices"
	"strings"
	"testing"
)

func TestParseGate(t *testing.T) {
	tests := []struct {
		spec    string
		want    []GateCondition
		errWant string // substring of the error; "" for none
	}{
		{"stale-latest", []GateCondition{FailStaleLatest}, ""},
		{"stale-latest, missing,stale-latest", []GateCondition{FailStaleLatest, FailMissing}, ""},
		{"missing,stale,broken,incomplete", []GateCondition{FailMissing, FailStale, FailBroken, FailIncomplete}, ""},
		{"stale-latest,bogus", nil, `"bogus": no such condition; want missing, stale`},
		{"Missing", nil, `"Missing"`},
		{"missing,,stale", nil, "empty condition"},
		{"", nil, "empty condition"},
		{"unsigned,stale", []GateCondition{FailUnsigned, FailStale}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			g, err := ParseGate(tt.spec)
			switch {
			case tt.errWant == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.errWant != "" && (err == nil || !strings.Contains(err.Error(), tt.errWant)):
				t.Fatalf("error %v, want one containing %q", err, tt.errWant)
			case tt.errWant == "" && !slices.Equal(g.conds, tt.want):
				t.Errorf("conditions %v, want %v", g.conds, tt.want)
			}
		})
	}
}

// gateReport holds one backend whose user-facing tags are in every state,
// with Impact written as inspect's judgement writes it: a latest that moved
// on to a newer release is stale but not in Impact.
func gateReport() *Report {
	b := &BackendReport{
		Suffix: "-cpu-a",
		Targets: map[string]*TargetStatus{
			"quay": {Tags: map[string]TagStatus{
				"v1.0.0-cpu-a": {State: TagMissing, Role: RoleRelease},
				"latest-cpu-a": {State: TagStale, Role: RoleLatest, UserImpact: "stale (users get the previous release)"},
			}},
			"dockerhub": {Tags: map[string]TagStatus{
				"v1.0.0-cpu-a": {State: TagComplete, Role: RoleRelease},
				"latest-cpu-a": {State: TagStale, Role: RoleLatest, Newer: "v1.1.0-cpu-a"}, // moved on: no user impact
			}},
			"ghcr": {Tags: map[string]TagStatus{
				"latest-cpu-a": {State: TagError, Role: RoleLatest, UserImpact: "could not be read"},
			}},
		},
		Impact: []string{"latest-cpu-a in quay: stale (users get the previous release)", "latest-cpu-a in ghcr: could not be read"},
	}
	branch := &BackendReport{
		Suffix: "-cpu-b",
		Targets: map[string]*TargetStatus{
			"quay": {Tags: map[string]TagStatus{
				"master-cpu-b":      {State: TagStale, Role: RoleBranch, UserImpact: "stale"},
				"sha-abc1234-cpu-b": {State: TagMissing, Role: RoleSHA},
			}},
			"dockerhub": {Tags: map[string]TagStatus{
				"master-cpu-b": {State: TagDangling, Role: RoleBranch, UserImpact: "dangling"},
			}},
		},
		Impact: []string{"master-cpu-b in quay: stale", "master-cpu-b in dockerhub: dangling"},
	}
	signed := &Signature{State: SigSigned, Children: map[string]ChildSignature{"sha256:a": {State: SigSigned}}}
	signs := &BackendReport{
		Suffix: "-cpu-c",
		Targets: map[string]*TargetStatus{
			"quay": {Tags: map[string]TagStatus{
				"v1.0.0-cpu-c": {State: TagComplete, Role: RoleRelease, Signature: &Signature{State: SigUnsigned}},
				"latest-cpu-c": {State: TagComplete, Role: RoleLatest, Signature: &Signature{State: SigUnsigned}},
			}},
			"dockerhub": {Tags: map[string]TagStatus{
				"latest-cpu-c": {State: TagComplete, Role: RoleLatest, Signature: signed},
			}},
			"ghcr": {Tags: map[string]TagStatus{
				"latest-cpu-c": {State: TagComplete, Role: RoleLatest, Signature: &Signature{State: SigSigned, Children: map[string]ChildSignature{"sha256:a": {State: SigUnsigned}}}},
			}},
			"ecr": {Tags: map[string]TagStatus{
				"latest-cpu-c": {State: TagComplete, Role: RoleLatest, Signature: &Signature{State: SigError, Error: "503"}},
			}},
		},
	}
	return &Report{Backends: []*BackendReport{b, branch, signs}}
}

func TestGateCheck(t *testing.T) {
	tests := []struct {
		spec string
		want []string
	}{
		{"stale-latest", []string{
			"-cpu-a: latest-cpu-a in ghcr could not be read (error) (stale-latest)",
			"-cpu-a: latest-cpu-a in quay is stale (stale-latest)",
		}},
		{"stale", []string{
			"-cpu-a: latest-cpu-a in ghcr could not be read (error) (stale)",
			"-cpu-a: latest-cpu-a in quay is stale (stale)",
			"-cpu-b: master-cpu-b in quay is stale (stale)",
		}},
		// Missing release and sha tags are not user-facing: the verdict
		// speaks for them, the gate does not.
		{"missing", []string{"-cpu-a: latest-cpu-a in ghcr could not be read (error) (missing)"}},
		{"broken", []string{
			"-cpu-a: latest-cpu-a in ghcr could not be read (error) (broken)",
			"-cpu-b: master-cpu-b in dockerhub is dangling (broken)",
		}},
		{"incomplete", []string{
			"-cpu-a: latest-cpu-a in ghcr could not be read (error) (incomplete)",
			"-cpu-a: latest-cpu-a in quay is stale (incomplete)",
			"-cpu-b: master-cpu-b in dockerhub is dangling (incomplete)",
			"-cpu-b: master-cpu-b in quay is stale (incomplete)",
		}},
		// A complete user-facing tag without a signature; the release tag
		// is not user-facing, and a tag not read could be either.
		{"unsigned", []string{
			"-cpu-a: latest-cpu-a in ghcr could not be read (error) (unsigned)",
			"-cpu-c: latest-cpu-c in ecr could not be checked for a signature (unsigned)",
			"-cpu-c: latest-cpu-c in ghcr names an unsigned child (unsigned)",
			"-cpu-c: latest-cpu-c in quay is unsigned (unsigned)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			g, err := ParseGate(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			got := g.Check(gateReport())
			if !slices.Equal(got, tt.want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
	if got := (Gate{}).Check(gateReport()); len(got) != 0 {
		t.Errorf("an empty gate failed: %v", got)
	}
}
