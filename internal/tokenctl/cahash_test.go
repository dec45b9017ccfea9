package tokenctl_test

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlsbootstrap/tlsbootstrap/internal/tokenctl"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

func TestCAHash(t *testing.T) {
	ca, err := sign.NewSelfSignedCA(sign.SelfSignedOptions{CommonName: "pin-test"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(caFile, ca.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	// The pin computed independently: SHA-256 over the DER SubjectPublicKeyInfo.
	spki, err := x509.MarshalPKIXPublicKey(ca.Cert.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(spki)
	want := "sha256:" + hex.EncodeToString(sum[:])

	var out bytes.Buffer
	if err := tokenctl.CAHash(&out, tokenctl.CAHashOptions{CAFile: caFile}); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != want {
		t.Errorf("pin %q, want %q", got, want)
	}

	out.Reset()
	err = tokenctl.CAHash(&out, tokenctl.CAHashOptions{CAFile: caFile, Server: "https://10.0.0.1:6443", Token: "abcdef.0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{"--server=https://10.0.0.1:6443", "--discovery-token=abcdef.0123456789abcdef", "--discovery-token-ca-cert-hash=" + want} {
		if !strings.Contains(out.String(), part) {
			t.Errorf("join hint lacks %q:\n%s", part, out.String())
		}
	}

	for name, opts := range map[string]tokenctl.CAHashOptions{
		"no file":          {},
		"missing file":     {CAFile: filepath.Join(dir, "nope.crt")},
		"not PEM":          {CAFile: writeFile(t, dir, "bad.crt", "garbage")},
		"server w/o token": {CAFile: caFile, Server: "https://x"},
		"bad token":        {CAFile: caFile, Server: "https://x", Token: "short"},
	} {
		if err := tokenctl.CAHash(&bytes.Buffer{}, opts); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
