package tui

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/release"
)

const (
	anchorRepo = "quay.io/go-skynet/ci-cache"
	quayRepo   = "quay.io/go-skynet/local-ai-backends"
	hubRepo    = "docker.io/localai/localai-backends"
	mirrorRepo = "registry.example.com/mirror/backends"
)

func dg(c byte) string { return "sha256:" + strings.Repeat(string(c), 64) }

// withoutAnchor drops the anchor's cell, as the engine does for darwin
// images, which are never anchored.
func withoutAnchor(m map[string]release.Cell) map[string]release.Cell {
	delete(m, anchorRepo)
	return m
}

func cells(states ...release.CellState) map[string]release.Cell {
	repos := []string{anchorRepo, quayRepo, hubRepo, mirrorRepo}
	out := map[string]release.Cell{}
	for i, s := range states {
		c := release.Cell{State: s}
		switch s {
		case release.CellDenied:
			c.Error = "UNAUTHORIZED: access to the requested resource is not authorized"
		case release.CellError:
			c.Error = "GET https://" + repos[i] + ": 502 Bad Gateway"
		}
		out[repos[i]] = c
	}
	return out
}

func leg(tag string, digest string, from release.DigestSource, c map[string]release.Cell) release.Leg {
	plat := "linux/" + tag
	if tag == "single" {
		plat = "linux/amd64"
	}
	return release.Leg{PlatformTag: tag, Platform: plat, Digest: digest, DigestFrom: from, Cells: c}
}

func target(repo string, rel, latest release.TagState, suffix string) *release.TargetStatus {
	lt := release.TagStatus{State: latest, Role: release.RoleLatest, Digest: dg('e')}
	if latest != release.TagComplete {
		lt.UserImpact = string(latest) // as inspect's judge gives it
	}
	return &release.TargetStatus{Repo: repo, State: rel, Tags: map[string]release.TagStatus{
		"v4.2.2" + suffix: {State: rel, Role: release.RoleRelease, Digest: dg('f')},
		"latest" + suffix: lt,
	}}
}

// fixture is a finished report covering every verdict, cell state and tag
// state, in the shapes the inspect engine reports them.
func fixture() *release.Report {
	P, M, D, E, Q, U := release.CellPresent, release.CellMissing, release.CellDenied, release.CellError, release.CellPending, release.CellUnknown
	r := &release.Report{
		Release: release.Release{Ref: "v4.2.2", Run: "25745181433", SHA: "8521af145f0123"},
		Repos: []release.Repo{
			{Repo: anchorRepo, Role: release.RoleAnchor},
			{Repo: quayRepo, Role: release.RoleTarget, Name: "quay"},
			{Repo: hubRepo, Role: release.RoleTarget, Name: "dockerhub"},
			{Repo: mirrorRepo, Role: release.RoleSource},
		},
		Problems: []string{
			"matrix line 812: -cpu-chatterbox: platform-tag amd64 has no arm64 leg",
			"registry.example.com: 12 of 12 probes denied: UNAUTHORIZED: authentication required (credentials come from the Docker config: docker login registry.example.com)",
		},
		Backends: []*release.BackendReport{
			{Suffix: "-cpu-kokoro", Name: "kokoro", Kind: release.KindMultiarch, Verdict: release.VerdictOK,
				Legs: []release.Leg{leg("amd64", dg('1'), release.FromAnchor, cells(P, P, P, P)), leg("arm64", dg('2'), release.FromAnchor, cells(P, P, P, P))},
				Targets: map[string]*release.TargetStatus{
					"quay":      target(quayRepo, release.TagComplete, release.TagComplete, "-cpu-kokoro"),
					"dockerhub": target(hubRepo, release.TagComplete, release.TagComplete, "-cpu-kokoro")}},
			{Suffix: "-cpu-whisper", Name: "whisper", Kind: release.KindMultiarch, Verdict: release.VerdictRepairable,
				Legs: []release.Leg{leg("amd64", dg('3'), release.FromDigests, cells(P, M, P, M)), leg("arm64", dg('4'), release.FromAnchor, cells(P, M, P, M))},
				Targets: map[string]*release.TargetStatus{
					"quay":      target(quayRepo, release.TagMissing, release.TagStale, "-cpu-whisper"),
					"dockerhub": target(hubRepo, release.TagComplete, release.TagComplete, "-cpu-whisper")},
				Problems: []string{"amd64 manifest reaped from " + quayRepo + "; still in ci-cache"},
				Impact:   []string{"latest-cpu-whisper in quay: stale"}},
			{Suffix: "-cuda12-vllm", Name: "vllm", Kind: release.KindMultiarch, Verdict: release.VerdictUnrepairable,
				Legs: []release.Leg{leg("amd64", dg('5'), release.FromAnchor, cells(P, P, P, M)), leg("arm64", dg('6'), release.FromPublished, cells(M, M, M, M))},
				Targets: map[string]*release.TargetStatus{
					"quay":      target(quayRepo, release.TagPartial, release.TagMissing, "-cuda12-vllm"),
					"dockerhub": target(hubRepo, release.TagDangling, release.TagStale, "-cuda12-vllm")},
				Problems: []string{"arm64 present nowhere: rebuild -cuda12-vllm arm64"},
				Impact: []string{"latest-cuda12-vllm in dockerhub: stale: users silently get the previous image",
					"latest-cuda12-vllm in quay: missing: installs fail with MANIFEST_UNKNOWN"}},
			{Suffix: "-cpu-kokoros", Name: "kokoros", Kind: release.KindMultiarch, Verdict: release.VerdictConflict,
				Legs: []release.Leg{leg("amd64", dg('7'), release.FromAnchor, cells(P, P, D, P)), leg("arm64", dg('8'), release.FromAnchor, cells(P, P, P, E))},
				Targets: map[string]*release.TargetStatus{
					"quay":      target(quayRepo, release.TagStale, release.TagComplete, "-cpu-kokoros"),
					"dockerhub": target(hubRepo, release.TagDenied, release.TagDenied, "-cpu-kokoros")},
				Problems: []string{"v4.2.2-cpu-kokoros points to a complete list of other digests"},
				Impact:   []string{"latest-cpu-kokoros in dockerhub: denied"}},
			{Suffix: "-rocm-llama", Name: "llama", Kind: release.KindSingle, Verdict: release.VerdictUnknown,
				Legs: []release.Leg{leg("single", "", "", cells(U, U, U, U))},
				Targets: map[string]*release.TargetStatus{
					"quay":      target(quayRepo, release.TagMissing, release.TagMissing, "-rocm-llama"),
					"dockerhub": target(hubRepo, release.TagError, release.TagError, "-rocm-llama")},
				Problems: []string{"no digest found for single"},
				Impact: []string{"latest-rocm-llama in dockerhub: error",
					"latest-rocm-llama in quay: missing: installs fail with MANIFEST_UNKNOWN"}},
			{Suffix: "-metal-mlx", Name: "mlx", Kind: release.KindDarwin, Verdict: release.VerdictOK,
				Legs: []release.Leg{{PlatformTag: "single", Platform: "darwin/arm64", Digest: dg('9'), DigestFrom: release.FromPublished, Cells: withoutAnchor(cells(P, P, P, P))}},
				Targets: map[string]*release.TargetStatus{
					"quay":      target(quayRepo, release.TagComplete, release.TagComplete, "-metal-mlx"),
					"dockerhub": target(hubRepo, release.TagComplete, release.TagComplete, "-metal-mlx")}},
			{Suffix: "-intel-sycl-f16-whisper", Name: "whisper", Kind: release.KindMultiarch, Verdict: release.VerdictPending,
				Legs: []release.Leg{leg("amd64", dg('a'), release.FromAnchor, cells(P, Q, Q, Q)), leg("arm64", "", "", cells(Q, Q, Q, Q))},
				Targets: map[string]*release.TargetStatus{
					"quay":      {Repo: quayRepo, State: release.TagPending, Tags: map[string]release.TagStatus{}},
					"dockerhub": {Repo: hubRepo, State: release.TagPending, Tags: map[string]release.TagStatus{}}}},
		},
	}
	for _, b := range r.Backends {
		r.Summary.Add(b.Verdict)
	}
	return r
}

// skeleton is the report as StartEvent carries it: every cell pending.
func skeleton(r *release.Report) *release.Report {
	s := r.Clone()
	s.Summary = release.Summary{}
	for _, b := range s.Backends {
		b.Verdict, b.Problems, b.Impact = release.VerdictPending, nil, nil
		for i := range b.Legs {
			b.Legs[i].Digest, b.Legs[i].DigestFrom = "", ""
			for repo := range b.Legs[i].Cells {
				b.Legs[i].Cells[repo] = release.Cell{State: release.CellPending}
			}
		}
		for _, t := range b.Targets {
			t.State, t.Tags = release.TagPending, map[string]release.TagStatus{}
		}
	}
	return s
}

// events is the scripted stream that turns skeleton(r) into r.
func events(r *release.Report) []inspect.Event {
	total := 0
	for _, b := range r.Backends {
		for _, l := range b.Legs {
			total += len(l.Cells)
		}
	}
	evs := []inspect.Event{inspect.StartEvent{Report: skeleton(r), Probes: total}}
	done := 0
	for _, b := range r.Backends {
		for _, l := range b.Legs {
			if l.Digest != "" {
				evs = append(evs, inspect.DigestEvent{Suffix: b.Suffix, PlatformTag: l.PlatformTag, Digest: l.Digest, From: l.DigestFrom})
			}
			for _, repo := range sortedKeys(l.Cells) {
				evs = append(evs, inspect.CellEvent{Suffix: b.Suffix, PlatformTag: l.PlatformTag, Repo: repo, Cell: l.Cells[repo]})
				done++
			}
		}
		for _, name := range sortedKeys(b.Targets) {
			for _, tag := range sortedKeys(b.Targets[name].Tags) {
				evs = append(evs, inspect.TagEvent{Suffix: b.Suffix, Target: name, Tag: tag, Status: b.Targets[name].Tags[tag]})
			}
		}
		if b.Verdict != release.VerdictPending {
			evs = append(evs, inspect.BackendEvent{Backend: b.Clone()})
		}
		evs = append(evs, inspect.ProgressEvent{Done: done, Total: total})
	}
	return evs
}

// fakeService plays scripted inspections and records re-merges.
type fakeService struct {
	mu       sync.Mutex
	report   *release.Report // returned by every Inspect
	inspects int
	// inspectRuns are the runs each Inspect was asked for ("" = default).
	inspectRuns []string
	// cancelled counts inspections that found their context cancelled.
	cancelled int
	repaired  []string
	planned   []string
	// planRuns are the runs each Plan and Repair was given, in call order.
	planRuns []string
	fail     map[string]bool // suffixes whose Repair errors
	runs     []release.AnchorRun
	runsErr  error
	// longPlan makes the repairable plan as long as a real two-target
	// plan, with repo names, for the layout of a dialog that must scroll.
	longPlan bool
}

// fakeRuns are the runs the fake's anchor repo holds: the fixture's run and
// an older one.
var fakeRuns = []release.AnchorRun{{ID: "25745181433", Anchors: 94}, {ID: "25612093377", Anchors: 31}}

func newFake() *fakeService {
	return &fakeService{report: fixture(), fail: map[string]bool{}, runs: fakeRuns}
}

// Inspect plays the fixture; like the engine, it reports the run it was
// given in Release.Run.
func (f *fakeService) Inspect(ctx context.Context, run string, fn func(inspect.Event)) (*release.Report, error) {
	f.mu.Lock()
	f.inspects++
	f.inspectRuns = append(f.inspectRuns, run)
	r := f.report.Clone()
	f.mu.Unlock()
	if run != "" {
		r.Release.Run = run
	}
	for _, ev := range events(r) {
		if err := ctx.Err(); err != nil {
			f.mu.Lock()
			f.cancelled++
			f.mu.Unlock()
			return nil, err
		}
		fn(ev)
	}
	return r, nil
}

func (f *fakeService) Runs(context.Context) ([]release.AnchorRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]release.AnchorRun(nil), f.runs...), f.runsErr
}

func (f *fakeService) Plan(_ context.Context, run string, b *release.BackendReport) (Plan, error) {
	f.mu.Lock()
	f.planned = append(f.planned, b.Suffix)
	f.planRuns = append(f.planRuns, run)
	f.mu.Unlock()
	switch {
	case b.Verdict == release.VerdictOK:
		return Plan{Suffix: b.Suffix, NoOp: true}, nil
	case b.Verdict == release.VerdictRepairable && f.longPlan:
		return Plan{Suffix: b.Suffix, Runnable: true, Text: longPlanText(b.Suffix)}, nil
	case b.Verdict == release.VerdictRepairable:
		return Plan{Suffix: b.Suffix, Runnable: true, Text: "quay: copy amd64 " + b.Legs[0].Digest[:19] + " from ci-cache (mount)\n" +
			"quay: write list, tags v4.2.2" + b.Suffix + " sha-8521af1" + b.Suffix + " latest" + b.Suffix}, nil
	default:
		return Plan{Suffix: b.Suffix, Refusal: fmt.Sprintf("%s: a person must decide", b.Verdict)}, nil
	}
}

func (f *fakeService) Repair(_ context.Context, run string, b *release.BackendReport, fn func(Progress)) (Outcome, error) {
	f.mu.Lock()
	f.repaired = append(f.repaired, b.Suffix)
	f.planRuns = append(f.planRuns, run)
	fail := f.fail[b.Suffix]
	f.mu.Unlock()
	fn(Progress{Step: 1, Steps: 2, Text: "copy amd64", Bytes: 512 << 20, TotalBytes: 1 << 30})
	fn(Progress{Step: 2, Steps: 2, Text: "write list"})
	if fail {
		return Outcome{Suffix: b.Suffix}, fmt.Errorf("pushing list: 500 Internal Server Error")
	}
	cmds := []string{
		"cosign sign --yes --recursive --registry-referrers-mode=oci-1-1 quay.io/go-skynet/local-ai-backends@sha256:cafe",
		"cosign sign --yes --recursive --registry-referrers-mode=oci-1-1 docker.io/localai/localai-backends@sha256:cafe",
	}
	return Outcome{Suffix: b.Suffix, OK: true, Commands: cmds, Text: b.Suffix + " v4.2.2 in quay: published\n" +
		"  sha256:cafe is unsigned; sign it with: " + cmds[0] + "\n" +
		b.Suffix + " v4.2.2 in dockerhub: published\n" +
		"  sha256:cafe is unsigned; sign it with: " + cmds[1]}, nil
}

func (f *fakeService) calls() (inspects int, repaired, planned []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.inspects, append([]string(nil), f.repaired...), append([]string(nil), f.planned...)
}

// longPlanText is shaped like repair.Plan.String for two targets.
func longPlanText(sfx string) string {
	var b strings.Builder
	for _, t := range []struct{ name, repo string }{{"quay", "quay.io/go-skynet/local-ai-backends"}, {"dockerhub", "docker.io/localai/localai-backends"}} {
		fmt.Fprintf(&b, "re-merge %s (v4.2.2) into %s (%s)\n", sfx, t.name, t.repo)
		for _, leg := range []string{"amd64", "arm64"} {
			fmt.Fprintf(&b, "  %-6s sha256:9b5be14c3422 linux/%-8s copy manifest from quay.io/go-skynet/ci-cache; mount 2 of 3 blobs (41 MiB, no bytes move)\n", leg, leg)
		}
		fmt.Fprintf(&b, "  list sha256:4d343ac86dcc4a73270b4b743de4770a1367a7a8d691255238a0ad9328f61d45 application/vnd.docker.distribution.manifest.list.v2+json, 683 bytes\n")
		for _, tag := range []string{"v4.2.2", "sha-8521af1", "latest"} {
			fmt.Fprintf(&b, "  tag %s%s: missing -> sha256:4d343ac86dcc\n", tag, sfx)
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}
