package tools

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// CosignPassword protects the test key pairs; cosign reads it from
// COSIGN_PASSWORD.
const CosignPassword = "remerge-test"

// CosignKit is a cosign v2.4.1 with a key pair in a temp dir, signing and
// verifying against loopback registries over plain HTTP, with no
// transparency log (nothing leaves the machine).
type CosignKit struct {
	Bin string
	Dir string
	// Key and Pub are the key pair's files; Cert, when set, a certificate
	// for Key naming an identity (what Fulcio gives a keyless signer).
	Key, Pub, Cert string
}

// NewCosignKit generates a key pair with the real cosign.
func NewCosignKit(tb testing.TB) *CosignKit {
	tb.Helper()
	k := &CosignKit{Bin: Cosign.Require(tb), Dir: tb.TempDir()}
	k.run(tb, "generate-key-pair")
	k.Key, k.Pub = filepath.Join(k.Dir, "cosign.key"), filepath.Join(k.Dir, "cosign.pub")
	return k
}

// NewCosignIdentityKit is a kit whose signatures carry a certificate
// naming identity (a workflow URI or an email) as its SAN, as a keyless
// signature's Fulcio certificate does: the private key is made here and
// imported with cosign import-key-pair, the certificate self-signed.
func NewCosignIdentityKit(tb testing.TB, identity string) *CosignKit {
	tb.Helper()
	k := &CosignKit{Bin: Cosign.Require(tb), Dir: tb.TempDir()}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		tb.Fatal(err)
	}
	pemKey := filepath.Join(k.Dir, "key.pem")
	if err := os.WriteFile(pemKey, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "remerge test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	if strings.Contains(identity, "://") {
		u, err := url.Parse(identity)
		if err != nil {
			tb.Fatal(err)
		}
		tmpl.URIs = []*url.URL{u}
	} else {
		tmpl.EmailAddresses = []string{identity}
	}
	cder, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		tb.Fatal(err)
	}
	k.Cert = filepath.Join(k.Dir, "cert.pem")
	if err := os.WriteFile(k.Cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cder}), 0o600); err != nil {
		tb.Fatal(err)
	}
	k.run(tb, "import-key-pair", "--key", pemKey, "--output-key-prefix", "import")
	k.Key, k.Pub = filepath.Join(k.Dir, "import.key"), filepath.Join(k.Dir, "import.pub")
	return k
}

// Env is the environment cosign runs in: the password, and experimental
// mode, which --registry-referrers-mode=oci-1-1 requires in v2.4.1.
func (k *CosignKit) Env() []string {
	return append(os.Environ(), "COSIGN_PASSWORD="+CosignPassword, "COSIGN_EXPERIMENTAL=1")
}

// SignArgs are the flags that make CI's command work here: the key (and
// certificate), no transparency log, plain HTTP.
func (k *CosignKit) SignArgs() []string {
	args := []string{"--key", k.Key, "--tlog-upload=false", "--allow-http-registry"}
	if k.Cert != "" {
		args = append(args, "--cert", k.Cert)
	}
	return args
}

// Sign signs ref (repo@digest) and, with recursive, the children of a
// list; referrers picks CI's oci-1-1 mode over cosign's default .sig tags.
func (k *CosignKit) Sign(tb testing.TB, ref string, recursive, referrers bool) {
	tb.Helper()
	args := append([]string{"sign", "--yes"}, k.SignArgs()...)
	if recursive {
		args = append(args, "--recursive")
	}
	if referrers {
		args = append(args, "--registry-referrers-mode=oci-1-1")
	}
	k.run(tb, append(args, ref)...)
}

// Verify runs cosign verify --key on ref and returns its error and output.
func (k *CosignKit) Verify(ref string, referrers bool) (string, error) {
	args := []string{"verify", "--key", k.Pub, "--insecure-ignore-tlog", "--allow-http-registry"}
	if referrers {
		args = append(args, "--experimental-oci11")
	}
	cmd := exec.Command(k.Bin, append(args, ref)...)
	cmd.Dir, cmd.Env = k.Dir, k.Env()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (k *CosignKit) run(tb testing.TB, args ...string) {
	tb.Helper()
	cmd := exec.Command(k.Bin, args...)
	cmd.Dir, cmd.Env = k.Dir, k.Env()
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}
