package rotate

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"strings"
	"testing"
	"time"
)

func TestRenewReason(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	weakEC, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	weakRSA, _ := rsa.GenerateKey(rand.Reader, 1024)
	cert := func(mod func(c *x509.Certificate)) *x509.Certificate {
		c := &x509.Certificate{
			Subject:     pkix.Name{CommonName: "system:node:n1", Organization: []string{"system:nodes"}},
			DNSNames:    []string{"n1", "n1.example"},
			IPAddresses: []net.IP{net.ParseIP("10.0.0.1")},
			NotBefore:   now.Add(-time.Hour),
			NotAfter:    now.Add(time.Hour),
			PublicKey:   ec.Public(),
		}
		if mod != nil {
			mod(c)
		}
		return c
	}
	tmpl := servingTemplate("n1", []string{"n1.example", "n1", "n1"}, []net.IP{net.ParseIP("10.0.0.1").To4()})
	for _, tc := range []struct {
		name string
		cert *x509.Certificate
		want string // substring; "" means no renewal needed
	}{
		{"matches (order, duplicates and IP form ignored)", cert(nil), ""},
		{"none", nil, "no certificate"},
		{"expired", cert(func(c *x509.Certificate) { c.NotAfter = now }), "expired"},
		{"other CN", cert(func(c *x509.Certificate) { c.Subject.CommonName = "system:node:n2" }), "common name"},
		{"other O", cert(func(c *x509.Certificate) { c.Subject.Organization = []string{"system:masters"} }), "organization"},
		{"DNS name removed", cert(func(c *x509.Certificate) { c.DNSNames = c.DNSNames[:1] }), "DNS names"},
		{"IP changed", cert(func(c *x509.Certificate) { c.IPAddresses = []net.IP{net.ParseIP("10.0.0.2")} }), "IP addresses"},
		{"weak EC key", cert(func(c *x509.Certificate) { c.PublicKey = weakEC.Public() }), "weak key"},
		{"weak RSA key", cert(func(c *x509.Certificate) { c.PublicKey = weakRSA.Public() }), "weak key"},
	} {
		got := renewReason(tc.cert, tmpl, now)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: reason %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := renewReason(cert(func(c *x509.Certificate) { c.DNSNames, c.IPAddresses = nil, nil }), clientTemplate("n1"), now); got != "" {
		t.Errorf("client certificate against the client template: %q, want a match", got)
	}
}
