package sign_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/internal/csrtest"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

var mustCA = csrtest.MustCA

// keyPEMAs encodes key in a given PEM flavour.
func keyPEMAs(t *testing.T, key crypto.Signer, format string) []byte {
	t.Helper()
	var der []byte
	var err error
	typ := format
	switch format {
	case "RSA PRIVATE KEY":
		der = x509.MarshalPKCS1PrivateKey(key.(*rsa.PrivateKey))
	case "EC PRIVATE KEY":
		der, err = x509.MarshalECPrivateKey(key.(*ecdsa.PrivateKey))
	case "PRIVATE KEY":
		der, err = x509.MarshalPKCS8PrivateKey(key)
	}
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestParseCAKeyTypesAndEncodings(t *testing.T) {
	rsaCA := mustCA(t, sign.SelfSignedOptions{KeyType: csr.RSA2048})
	ecCA := mustCA(t, sign.SelfSignedOptions{KeyType: csr.ECDSAP384})
	edCA := mustCA(t, sign.SelfSignedOptions{KeyType: csr.Ed25519})
	ecParams := []byte("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n")
	for _, tc := range []struct {
		name   string
		ca     *sign.CA
		format string
		prefix []byte
	}{
		{"RSA PKCS#1", rsaCA, "RSA PRIVATE KEY", nil},
		{"RSA PKCS#8", rsaCA, "PRIVATE KEY", nil},
		{"ECDSA SEC1", ecCA, "EC PRIVATE KEY", nil},
		{"ECDSA SEC1 after EC PARAMETERS", ecCA, "EC PRIVATE KEY", ecParams},
		{"ECDSA PKCS#8", ecCA, "PRIVATE KEY", nil},
		{"Ed25519 PKCS#8", edCA, "PRIVATE KEY", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keyPEM := append(append([]byte{}, tc.prefix...), keyPEMAs(t, tc.ca.Key, tc.format)...)
			got, err := sign.ParseCA(tc.ca.CertPEM(), keyPEM)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Cert.Equal(tc.ca.Cert) {
				t.Error("certificate differs")
			}
			if !got.Key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(tc.ca.Key.Public()) {
				t.Error("key differs")
			}
		})
	}
}

func TestParseCARejects(t *testing.T) {
	ca := mustCA(t, sign.SelfSignedOptions{})
	other := mustCA(t, sign.SelfSignedOptions{})
	keyPEM, _ := ca.KeyPEM()
	otherKeyPEM, _ := other.KeyPEM()
	leafPEM, leafKeyPEM := leafOf(t, ca)
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: []byte{1, 2, 3}})
	for _, tc := range []struct {
		name            string
		certPEM, keyPEM []byte
		want            string
	}{
		{"no certificate", nil, keyPEM, "found 0"},
		{"two certificates", append(ca.CertPEM(), other.CertPEM()...), keyPEM, "found 2"},
		{"key in certificate file", append(ca.CertPEM(), keyPEM...), keyPEM, "unexpected PEM block"},
		{"garbage certificate", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("nope")}), keyPEM, "parsing certificate 1"},
		{"not a CA", leafPEM, leafKeyPEM, "not a CA"},
		{"key of another CA", ca.CertPEM(), otherKeyPEM, "does not match"},
		{"no key", ca.CertPEM(), nil, "no private key"},
		{"two keys", ca.CertPEM(), append(append([]byte{}, keyPEM...), keyPEM...), "more than one"},
		{"encrypted key", ca.CertPEM(), encrypted, "encrypted"},
		{"malformed key", ca.CertPEM(), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte("nope")}), "malformed"},
		{"wrong key block", ca.CertPEM(), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("x")}), "unexpected PEM block"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sign.ParseCA(tc.certPEM, tc.keyPEM)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY-----") {
				t.Fatalf("error leaks key material: %v", err)
			}
		})
	}
}

// leafOf issues a non-CA certificate from ca, as PEM certificate and key.
func leafOf(t *testing.T, ca *sign.CA) (certPEM, keyPEM []byte) {
	t.Helper()
	key := newKey(t)
	obj := csrObject("leaf", sign.LegacyUnknownSignerName, request{CN: "leaf"}.PEM(t, key), clientUsages, nil)
	certPEM, err := sign.Issue(ca, obj, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalECPrivateKey(key)
	return certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}

func TestLoadCANamesTheFile(t *testing.T) {
	dir := t.TempDir()
	ca := mustCA(t, sign.SelfSignedOptions{KeyType: csr.Ed25519})
	certFile, keyFile := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	if err := ca.WriteFiles(certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{certFile, keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
	got, err := sign.LoadCA(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Key.(ed25519.PrivateKey); !ok || !got.Cert.Equal(ca.Cert) {
		t.Fatalf("loaded %T, want the written Ed25519 CA", got.Key)
	}

	if _, err := sign.LoadCA(filepath.Join(dir, "missing.crt"), keyFile); err == nil || !strings.Contains(err.Error(), "missing.crt") {
		t.Errorf("missing file: %v, want the file named", err)
	}
	bad := filepath.Join(dir, "bad.key")
	if err := os.WriteFile(bad, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sign.LoadCA(certFile, bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad key file: %v, want the file named", err)
	}
}

func TestNewSelfSignedCA(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, kt := range []csr.KeyType{csr.ECDSAP256, csr.ECDSAP384, csr.RSA2048, csr.Ed25519} {
		t.Run(string(kt), func(t *testing.T) {
			ca := mustCA(t, sign.SelfSignedOptions{CommonName: "unit", KeyType: kt, Validity: 48 * time.Hour, Clock: testingclock.NewFakePassiveClock(now)})
			c := ca.Cert
			if !c.IsCA || !c.BasicConstraintsValid || c.KeyUsage&x509.KeyUsageCertSign == 0 {
				t.Errorf("not a CA: IsCA=%v usage=%v", c.IsCA, c.KeyUsage)
			}
			if c.Subject.CommonName != "unit" || !c.NotAfter.Equal(now.Add(48*time.Hour)) || !c.NotBefore.Equal(now.Add(-5*time.Minute)) {
				t.Errorf("subject %q validity %s..%s", c.Subject.CommonName, c.NotBefore, c.NotAfter)
			}
			if err := c.CheckSignatureFrom(c); err != nil {
				t.Errorf("not self-signed: %v", err)
			}
		})
	}
	if _, err := sign.NewSelfSignedCA(sign.SelfSignedOptions{KeyType: "DSA"}); err == nil {
		t.Error("unknown key type accepted")
	}
}

func TestFileCAReloadsAndKeepsOldOnFailure(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	first := mustCA(t, sign.SelfSignedOptions{CommonName: "first"})
	if err := first.WriteFiles(certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	clock := testingclock.NewFakePassiveClock(time.Now())
	p, err := sign.NewFileCA(context.Background(), certFile, keyFile, sign.FileCAOptions{CheckInterval: time.Second, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	current := func() string {
		t.Helper()
		ca, err := p.Current()
		if err != nil {
			t.Fatal(err)
		}
		return ca.Cert.Subject.CommonName
	}
	if got := current(); got != "first" {
		t.Fatalf("CA %q, want first", got)
	}

	second := mustCA(t, sign.SelfSignedOptions{CommonName: "second-with-a-longer-name"})
	if err := second.WriteFiles(certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	if got := current(); got != "first" {
		t.Errorf("reloaded before CheckInterval passed: %q", got)
	}
	clock.SetTime(clock.Now().Add(2 * time.Second))
	if got := current(); got != "second-with-a-longer-name" {
		t.Fatalf("after the files changed: %q, want second-with-a-longer-name", got)
	}

	// Half a rotation: a new certificate with the old key. Keep the working CA.
	third := mustCA(t, sign.SelfSignedOptions{CommonName: "third"})
	if err := os.WriteFile(certFile, third.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	clock.SetTime(clock.Now().Add(2 * time.Second))
	if got := current(); got != "second-with-a-longer-name" {
		t.Fatalf("after a bad reload: %q, want the previous CA kept", got)
	}
	if err := sign.ReloadError(p); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("ReloadError = %v, want a key mismatch", err)
	}
	// The rotation completes: the retry picks it up.
	keyPEM, _ := third.KeyPEM()
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	clock.SetTime(clock.Now().Add(2 * time.Second))
	if got := current(); got != "third" {
		t.Fatalf("after completing the rotation: %q, want third", got)
	}
	if err := sign.ReloadError(p); err != nil {
		t.Fatalf("ReloadError after success = %v", err)
	}

	if _, err := sign.NewFileCA(context.Background(), filepath.Join(dir, "nope"), keyFile, sign.FileCAOptions{}); err == nil {
		t.Error("NewFileCA with a missing file succeeded")
	}
}
