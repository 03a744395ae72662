package registry

import (
	"context"
	"encoding/base64"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/go-skynet/remerge/internal/testkit/testreg"
)

var amd64 = v1.Platform{OS: "linux", Architecture: "amd64"}

// newClient builds a Client for a test with anonymous credentials unless
// opts says otherwise, and drops its idle connections at cleanup.
func newClient(t *testing.T, opts Options) *Client {
	t.Helper()
	if opts.Keychain == nil {
		opts.Keychain = anonymous{}
	}
	c := New(opts)
	t.Cleanup(c.Close)
	return c
}

// anonymous is a keychain with no credentials, so tests never read the
// developer's own Docker config.
type anonymous struct{}

func (anonymous) Resolve(authn.Resource) (authn.Authenticator, error) { return authn.Anonymous, nil }

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func seed(t *testing.T, reg *testreg.Registry, repo string) testreg.Image {
	t.Helper()
	img, err := reg.PushImage(testContext(t), repo, amd64, testreg.ImageOptions{})
	if err != nil {
		t.Fatalf("seeding %s: %v", repo, err)
	}
	return img
}

func TestProbes(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	reg := testreg.Start(t)
	img := seed(t, reg, "org/backends")
	if err := reg.PublishSingle(ctx, "org/backends", []string{"v1-cpu", "latest-cpu"}, img); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, Options{})
	repo, err := c.Repository(reg.Repo("org/backends"))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("head by digest and tag", func(t *testing.T) {
		for _, s := range []string{reg.Repo("org/backends@" + img.Digest), reg.Repo("org/backends:v1-cpu")} {
			ref, err := c.Reference(s)
			if err != nil {
				t.Fatal(err)
			}
			desc, err := c.Head(ctx, ref)
			if err != nil {
				t.Fatalf("Head(%s): %v", s, err)
			}
			if desc.Digest.String() != img.Digest || desc.Size != img.Size {
				t.Errorf("Head(%s) = %s/%d, want %s/%d", s, desc.Digest, desc.Size, img.Digest, img.Size)
			}
		}
	})
	t.Run("manifest keeps raw bytes", func(t *testing.T) {
		ref, _ := c.Reference(reg.Repo("org/backends@" + img.Digest))
		raw, desc, err := c.Manifest(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if string(raw) != string(img.Raw) || desc.Digest.String() != img.Digest || string(desc.MediaType) != img.MediaType {
			t.Errorf("Manifest = %s (%s, %s), want the seeded bytes", raw, desc.Digest, desc.MediaType)
		}
	})
	t.Run("tags", func(t *testing.T) {
		tags, err := c.Tags(ctx, repo)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(tags)
		if !slices.Equal(tags, []string{"latest-cpu", "v1-cpu"}) {
			t.Errorf("Tags = %v", tags)
		}
	})
	t.Run("blob exists", func(t *testing.T) {
		for _, d := range append([]string{img.Config}, img.Layers...) {
			ok, err := c.BlobExists(ctx, repo, d)
			if err != nil || !ok {
				t.Errorf("BlobExists(%s) = %v, %v; want true", d, ok, err)
			}
		}
		missing := "sha256:" + strings.Repeat("0", 64)
		if ok, err := c.BlobExists(ctx, repo, missing); err != nil || ok {
			t.Errorf("BlobExists(missing) = %v, %v; want false, nil", ok, err)
		}
	})
	t.Run("missing manifest is NotFound", func(t *testing.T) {
		ref, _ := c.Reference(reg.Repo("org/backends:nope"))
		_, err := c.Head(ctx, ref)
		if class, text := Classify(err); class != NotFound {
			t.Errorf("Head missing: Classify = %v, %q; want not-found", class, text)
		}
		// A tag is HEADed for its digest: a HEAD's 404 has no body.
		_, _, err = c.Manifest(ctx, ref)
		if class, text := Classify(err); class != NotFound {
			t.Errorf("Manifest missing: Classify = %v, %q", class, text)
		}
		// A digest the client knows nothing of is read with one GET,
		// whose answer carries the registry's word.
		gone, _ := c.Reference(reg.Repo("org/backends@sha256:" + strings.Repeat("0", 64)))
		_, _, err = c.Manifest(ctx, gone)
		if class, text := Classify(err); class != NotFound || text != "MANIFEST_UNKNOWN: manifest unknown" {
			t.Errorf("Manifest of a missing digest: Classify = %v, %q", class, text)
		}
	})
}

func TestDroppedBlobLinkIsAbsent(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	reg := testreg.Start(t)
	img := seed(t, reg, "a/x")
	if _, err := reg.PutImage(ctx, "b/x", mustImage(t, reg, "a/x", img)); err != nil {
		t.Fatal(err)
	}
	if err := reg.DropBlob(ctx, "a/x", img.Layers[0]); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, Options{})
	for repoName, want := range map[string]bool{"a/x": false, "b/x": true} {
		repo, _ := c.Repository(reg.Repo(repoName))
		ok, err := c.BlobExists(ctx, repo, img.Layers[0])
		if err != nil || ok != want {
			t.Errorf("BlobExists in %s = %v, %v; want %v", repoName, ok, err, want)
		}
	}
}

// mustImage reads back an image seeded in repo, to push it elsewhere.
func mustImage(t *testing.T, reg *testreg.Registry, repo string, img testreg.Image) v1.Image {
	t.Helper()
	c := newClient(t, Options{})
	ref, _ := c.Reference(reg.Repo(repo + "@" + img.Digest))
	d, err := c.Puller().Get(testContext(t), ref)
	if err != nil {
		t.Fatal(err)
	}
	i, err := d.Image()
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// TestOnePingPerRepository checks that the auth handshake is done once per
// repository however many probes follow, including concurrent ones.
func TestOnePingPerRepository(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	reg := testreg.Start(t, testreg.WithAuth("alice", "wonderland"))
	imgs := map[string]testreg.Image{"r/one": {}, "r/two": {}}
	for repo := range imgs {
		imgs[repo] = seed(t, reg, repo)
	}
	reg.ResetStats()
	c := newClient(t, Options{Keychain: staticKeychain{reg.Authenticator()}})
	const perRepo = 12
	var wg sync.WaitGroup
	errs := make(chan error, 2*perRepo)
	for repo, img := range imgs {
		ref, _ := c.Reference(reg.Repo(repo + "@" + img.Digest))
		for range perRepo {
			wg.Go(func() {
				_, err := c.Head(ctx, ref)
				errs <- err
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	st := reg.Stats()
	if got := st.Requests("GET", testreg.KindPing); got != len(imgs) {
		t.Errorf("pings = %d, want one per repository (%d)\n%s", got, len(imgs), st)
	}
	if got := st.Requests("HEAD", testreg.KindManifest); got != perRepo*len(imgs) {
		t.Errorf("manifest HEADs = %d, want %d\n%s", got, perRepo*len(imgs), st)
	}
	if got := st.Status(401); got != len(imgs) {
		t.Errorf("401s = %d, want only the pings'\n%s", got, st)
	}
}

type staticKeychain struct{ auth authn.Authenticator }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) { return k.auth, nil }

// TestCredentialsFromDockerConfig uses the real default keychain with a
// temporary DOCKER_CONFIG and checks that no error text ever shows the
// password. Not parallel: it sets an environment variable.
func TestCredentialsFromDockerConfig(t *testing.T) {
	ctx := testContext(t)
	const user, pass = "alice", "s3cret-Passw0rd"
	reg := testreg.Start(t, testreg.WithAuth(user, pass))
	img := seed(t, reg, "private/repo")
	secrets := []string{pass, base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))}

	good := t.TempDir()
	if err := testreg.WriteDockerConfig(good, reg); err != nil {
		t.Fatal(err)
	}
	wrong := testreg.Start(t, testreg.WithAuth(user, pass+"-wrong"))
	bad := t.TempDir()
	if err := testreg.WriteDockerConfig(bad, wrong); err != nil {
		t.Fatal(err)
	}
	// The wrong registry's credentials, filed under the right host.
	badCfg := strings.ReplaceAll(readFile(t, bad+"/config.json"), wrong.Host, reg.Host)
	writeFile(t, bad+"/config.json", badCfg)
	secrets = append(secrets, pass+"-wrong", base64.StdEncoding.EncodeToString([]byte(user+":"+pass+"-wrong")))

	tests := []struct {
		name      string
		dir       string
		wantClass Class
		wantErr   bool
	}{
		{"right credentials", good, Other, false},
		{"wrong credentials", bad, Denied, true},
		{"no credentials", t.TempDir(), Denied, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DOCKER_CONFIG", tt.dir)
			c := New(Options{}) // authn.DefaultKeychain
			defer c.Close()
			ref, _ := c.Reference(reg.Repo("private/repo@" + img.Digest))
			_, _, err := c.Manifest(ctx, ref)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Manifest err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil {
				return
			}
			class, text := Classify(err)
			if class != tt.wantClass {
				t.Errorf("Classify = %v, %q; want %v", class, text, tt.wantClass)
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) || strings.Contains(text, s) {
					t.Errorf("error text leaks a credential: %q / %q", err, text)
				}
			}
		})
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// go-containerregistry's referrers lookup holds the API's 404 open while it
// asks for the fallback tag: two requests of one caller in flight. An
// error's body is read at once and its slot given back, so this finishes
// even at a limit of one instead of waiting out the idle timeout (here a
// minute, over the test's 20 s budget).
func TestNestedRequestAfterAnErrorDoesNotWaitForItsSlot(t *testing.T) {
	reg := testreg.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	img, err := reg.PushImage(ctx, "org/backends", v1.Platform{OS: "linux", Architecture: "amd64"}, testreg.ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := New(Options{Concurrency: 1, Timeout: time.Minute, Keychain: authn.NewMultiKeychain()})
	defer c.Close()
	ref, err := name.NewDigest(reg.Repo("org/backends")+"@"+img.Digest, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := c.Referrers(ctx, ref)
	if err != nil || len(refs) != 0 {
		t.Fatalf("Referrers = %v, %v; want none, promptly", refs, err)
	}
}
