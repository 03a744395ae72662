package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-skynet/remerge/internal/cas"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testkit/scenariotest"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
	"github.com/go-skynet/remerge/repair"
)

// asMainEnv makes the test binary run remerge itself, with the arguments
// in the variable (one a line): a real process a test can SIGKILL.
const asMainEnv = "REMERGE_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv(asMainEnv); ok {
		os.Exit(run(strings.Split(args, "\n"), os.Stdout, os.Stderr))
	}
	// Every command a test runs (in process or as a child) keeps its
	// cache in a directory of its own, never in the user's.
	dir, err := os.MkdirTemp("", "remerge-cmd-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv(cas.DirEnv, dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startRemerge runs remerge with args in a child process.
func startRemerge(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), asMainEnv+"="+strings.Join(args, "\n"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd, &out
}

// proxiedRelease seeds one reaped multi-arch backend and writes a config
// whose quay registry (target and anchor) is reached through a fault
// proxy.
func proxiedRelease(t *testing.T) (*scenariotest.Fixture, *testreg.FaultProxy, []string) {
	t.Helper()
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	f := scenariotest.Start(t, []scenario.Backend{{Suffix: "-cpu-kokoro", Kind: release.KindMultiarch, Fate: scenario.Reaped}}, testreg.ImageOptions{})
	proxy := testreg.StartFaultProxy(t, f.Quay.Host)
	cfg := filepath.Join(t.TempDir(), "remerge.yaml")
	body := fmt.Sprintf("matrix: %s\nanchor: %s\ntargets:\n  - name: quay\n    repo: %s\n  - name: dockerhub\n    repo: %s\n",
		f.MatrixPath, proxy.Repo(scenario.Anchor), proxy.Repo(scenario.QuayTarget), f.Hub.Repo(scenario.HubTarget))
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return f, proxy, []string{"--config", cfg, "--release", f.Release.Ref, "--sha", f.Release.SHA, "--digests", f.DigestsDir}
}

func readAudit(t *testing.T, path string) []repair.AuditEntry {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []repair.AuditEntry
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var e repair.AuditEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		out = append(out, e)
	}
	return out
}

// A repair SIGKILLed in the middle of its tag step leaves an intent line
// naming every tag it meant to move; the next repair reconciles it from
// the registry (the first tag moved, the others not), then finishes the
// job, and the log accounts for every tag that moved.
func TestRepairKilledAtTagStepIsReconciled(t *testing.T) {
	f, proxy, args := proxiedRelease(t)
	const suffix = "-cpu-kokoro"
	var tags []string
	for _, r := range f.Config.ReleaseTags(f.Release, suffix) {
		tags = append(tags, r.Tag)
	}
	if len(tags) != 3 {
		t.Fatalf("release tags %v, want release, sha and latest", tags)
	}
	release, sha, latest := tags[0], tags[1], tags[2]
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	list := f.Lists[suffix]
	resolve := func(tag string) string {
		t.Helper()
		d, err := f.Quay.Resolve(context.Background(), scenario.QuayTarget, tag)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	oldLatest := resolve(latest)

	// The second tag's write never gets an answer; kill remerge there.
	secondPut := func(a testreg.Arrival) bool {
		return a.Method == http.MethodPut && strings.HasSuffix(a.Path, "/manifests/"+sha)
	}
	proxy.Add(testreg.Fault{Match: testreg.Match{Methods: []string{http.MethodPut}, PathContains: "/manifests/" + sha}, Effect: testreg.EffectStall})
	cmd, out := startRemerge(t, append([]string{"repair", "--yes", "--target", "quay", "--audit", audit, "cpu-kokoro"}, args...)...)
	deadline := time.Now().Add(60 * time.Second)
	for !slices.ContainsFunc(proxy.Arrivals(), secondPut) {
		if time.Now().After(deadline) {
			t.Fatalf("the second tag write never came; remerge said:\n%s", out)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	if got := resolve(release); got != list {
		t.Fatalf("before the kill %s should have moved to %s, is %q", release, list, got)
	}
	lines := readAudit(t, audit)
	if len(lines) != 1 || lines[0].Event != repair.EventIntent {
		t.Fatalf("after the kill the log holds %+v; want the intent alone", lines)
	}
	intent := lines[0]
	wantMoves := []repair.AuditMove{{Tag: release, To: list}, {Tag: sha, To: list}, {Tag: latest, From: oldLatest, To: list}}
	if !slices.Equal(intent.Moves, wantMoves) || intent.ListDigest != list || len(intent.Children) != 2 {
		t.Errorf("intent %+v\nwant moves %+v", intent, wantMoves)
	}

	proxy.Clear()
	code, stdout, stderr := runArgs(t, append([]string{"repair", "--yes", "--target", "quay", "--audit", audit, "cpu-kokoro"}, args...)...)
	if code != exitOK {
		t.Fatalf("next run: exit %d, stderr %q\n%s", code, stderr, stdout)
	}
	if want := "tags moved: " + release + "; not moved: " + sha + ", " + latest; !strings.Contains(stdout, want) {
		t.Errorf("next run does not report the reconciliation %q:\n%s", want, stdout)
	}
	lines = readAudit(t, audit)
	if len(lines) != 4 {
		t.Fatalf("audit after the next run: %+v; want intent, reconciled, intent, outcome", lines)
	}
	rec, next, done := lines[1], lines[2], lines[3]
	if rec.Event != repair.EventReconciled || rec.ID != intent.ID || rec.Result != repair.ResultInterrupted ||
		!slices.Equal(rec.TagsMoved, []string{release}) || !slices.Equal(rec.TagsNotMoved, []string{sha, latest}) {
		t.Errorf("reconciled line %+v", rec)
	}
	if next.Event != repair.EventIntent || done.Event != repair.EventOutcome || done.ID != next.ID || done.Result != repair.ResultOK ||
		!slices.Equal(done.TagsMoved, []string{sha, latest}) {
		t.Errorf("second re-merge logged %+v then %+v; want %s and %s moved", next, done, sha, latest)
	}
	for _, tag := range tags {
		if got := resolve(tag); got != list {
			t.Errorf("%s -> %q after the next run, want %s", tag, got, list)
		}
	}

	// A third run finds nothing open and nothing to do.
	code, stdout, _ = runArgs(t, append([]string{"repair", "--yes", "--audit", audit, "cpu-kokoro"}, args...)...)
	if code != exitOK || strings.Contains(stdout, "reconciled") {
		t.Errorf("third run: exit %d\n%s", code, stdout)
	}
}
