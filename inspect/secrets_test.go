package inspect_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-skynet/remerge/inspect"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
	"github.com/go-skynet/remerge/internal/report"
	"github.com/go-skynet/remerge/internal/scenario"
	"github.com/go-skynet/remerge/internal/testkit/testreg"
	"github.com/go-skynet/remerge/repair"
)

const (
	secretUser = "ci-bot"
	secretPass = "Hunter2-very-S3CRET-pass"
)

// useDockerConfig points authn.DefaultKeychain at a fresh Docker config
// holding user:pass for host.
func useDockerConfig(t *testing.T, host, user, pass string) {
	t.Helper()
	dir := t.TempDir()
	b, err := json.Marshal(map[string]any{"auths": map[string]any{host: map[string]string{"auth": basicOf(user, pass)}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
}

func basicOf(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

// assertNoSecret fails when text holds the password or a basic credential
// made with it.
func assertNoSecret(t *testing.T, where, text string, pass string) {
	t.Helper()
	for _, s := range []string{pass, basicOf(secretUser, pass)} {
		if strings.Contains(text, s) {
			t.Errorf("%s shows a credential (%q):\n%s", where, s, text)
		}
	}
}

// reportText is everything a report shows: its JSON, problems and errors.
func reportText(t *testing.T, rep *release.Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := report.WriteJSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteTable(&b, rep, 200); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Credentials come from the Docker config and go nowhere else: not into
// the JSON report, problems, cell errors or the audit log, also when the
// password is wrong and when a broken registry echoes the credential back.
func TestCredentialsNeverShow(t *testing.T) {
	w := newWorld(t)
	locked := testreg.Start(t, testreg.WithAuth(secretUser, secretPass))
	echo := testreg.StartFaultProxy(t, locked.Host)
	suffix := w.byFate[scenario.Reaped][0]
	// A registry that quotes the request's credentials in its error text.
	echoBody := "upstream https://" + secretUser + ":" + secretPass + "@auth.example/token?password=" + secretPass +
		" refused Authorization: Basic " + basicOf(secretUser, secretPass)

	tests := []struct {
		name      string
		host      string
		pass      string
		fault     bool
		wantState release.CellState
	}{
		// mirror/backends was never pushed: it does not exist, so its
		// cells are unknown, not missing (issue 18).
		{"right password", locked.Host, secretPass, false, release.CellUnknown},
		{"wrong password", locked.Host, secretPass + "-wrong", false, release.CellDenied},
		{"echoing registry", echo.Host(), secretPass, true, release.CellError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			useDockerConfig(t, tt.host, secretUser, tt.pass)
			echo.Clear()
			if tt.fault {
				echo.Add(testreg.Fault{Effect: testreg.EffectStatus, Status: http.StatusBadGateway, Body: echoBody})
			}
			mirror := tt.host + "/mirror/backends"
			cfg := w.seeded.Config
			cfg.Sources = []string{mirror}
			c := registry.New(registry.Options{Timeout: 5 * time.Second, Retries: -1}) // DefaultKeychain
			t.Cleanup(c.Close)
			rep, err := inspect.Run(context.Background(), w.seeded.Release, inspect.WithConfig(cfg), inspect.WithMatrix(w.matrix),
				inspect.WithDigests(w.digests), inspect.WithClient(c), inspect.WithBackends(suffix))
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range rep.Backends[0].Legs {
				if got := l.Cells[mirror]; got.State != tt.wantState {
					t.Errorf("%s cell in the locked repo: %s %q, want %s", l.PlatformTag, got.State, got.Error, tt.wantState)
				}
			}
			text := reportText(t, rep)
			assertNoSecret(t, "report", text, secretPass)
			assertNoSecret(t, "report", text, tt.pass)

			// Re-merge into the locked registry, a new target created on
			// purpose, and check the audit line.
			cfg.Targets = append(cfg.Targets, release.Target{Name: "locked", Repo: tt.host + "/localai/backends"})
			rep, err = inspect.Run(context.Background(), w.seeded.Release, inspect.WithConfig(cfg), inspect.WithMatrix(w.matrix),
				inspect.WithDigests(w.digests), inspect.WithClient(c), inspect.WithBackends(suffix), inspect.WithCreateTargets("locked"))
			if err != nil {
				t.Fatal(err)
			}
			audit := filepath.Join(t.TempDir(), "audit.jsonl")
			p, err := repair.NewPlan(context.Background(), c, cfg, w.seeded.Release, rep.Backends[0], "locked", repair.WithCreateTargets("locked"))
			if err != nil {
				assertNoSecret(t, "plan error", err.Error(), secretPass)
				assertNoSecret(t, "plan error", err.Error(), tt.pass)
				if tt.pass == secretPass && !tt.fault {
					t.Fatalf("NewPlan with the right password: %v", err)
				}
				return
			}
			r, err := repair.Execute(context.Background(), c, p, repair.WithAudit(audit))
			if err != nil && tt.pass == secretPass && !tt.fault {
				t.Fatalf("Execute with the right password: %v", err)
			}
			line, rerr := os.ReadFile(audit)
			if rerr != nil {
				t.Fatal(rerr)
			}
			assertNoSecret(t, "audit line", string(line), secretPass)
			assertNoSecret(t, "result", r.String(), secretPass)
		})
	}
}

// egress stands in for the network in this test binary: https to any
// non-loopback host goes to this loopback proxy (HTTPS_PROXY), which answers
// 502 and records what it was asked, so no test request leaves the machine
// and a plain HTTP request that slipped past the guard would be seen here.
// Set before the first request: net/http reads the variables once.
var egress = startEgressTrap()

type egressTrap struct {
	mu       sync.Mutex
	requests []string // "METHOD host"
}

func startEgressTrap() *egressTrap {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	tr := &egressTrap{}
	for _, k := range []string{"NO_PROXY", "no_proxy", "https_proxy", "http_proxy"} {
		os.Unsetenv(k)
	}
	os.Setenv("HTTPS_PROXY", "http://"+ln.Addr().String())
	os.Setenv("HTTP_PROXY", "http://"+ln.Addr().String())
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go tr.serve(conn)
		}
	}()
	return tr
}

func (tr *egressTrap) serve(conn net.Conn) {
	defer conn.Close()
	req, err := http.ReadRequest(bufio.NewReader(conn))
	if err != nil {
		return
	}
	tr.mu.Lock()
	tr.requests = append(tr.requests, req.Method+" "+req.Host)
	tr.mu.Unlock()
	_, _ = io.WriteString(conn, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
}

func (tr *egressTrap) seen() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return slices.Clone(tr.requests)
}

// A repo on a private address that is not listed under insecure is never
// spoken to over plain HTTP: its cells say so, the rest of the release is
// inspected, and only the https attempt (a CONNECT to the egress trap)
// went out.
func TestPlainHTTPRefusedForUnlistedHost(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const host = "10.255.255.1:5000"
	// A long path pushes the refusal past the length cap of error text
	// unless it is put first.
	plain := host + "/" + strings.Repeat("deep/", 20) + "backends"
	cfg := w.seeded.Config
	cfg.Sources = []string{plain}
	suffix := w.byFate[scenario.Healthy][0]
	rep, err := inspect.Run(context.Background(), w.seeded.Release, inspect.WithConfig(cfg), inspect.WithMatrix(w.matrix),
		inspect.WithDigests(w.digests), inspect.WithClient(faultClient(t, registry.Options{Retries: -1})), inspect.WithBackends(suffix))
	if err != nil {
		t.Fatal(err)
	}
	b := rep.Backends[0]
	for _, l := range b.Legs {
		c := l.Cells[plain]
		if c.State != release.CellError || !strings.HasPrefix(c.Error, "refusing plain HTTP to "+host) {
			t.Errorf("%s cell: %s %q, want the plain HTTP refusal first", l.PlatformTag, c.State, c.Error)
		}
		if tc := l.Cells[cfg.Targets[0].Repo]; tc.State != release.CellPresent {
			t.Errorf("%s target cell: %s", l.PlatformTag, tc.State)
		}
	}
	for _, r := range egress.seen() {
		if r != "CONNECT "+host {
			t.Errorf("request %q went out; only the https CONNECT may", r)
		}
	}
}
