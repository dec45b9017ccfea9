package malicious

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
)

// TestCheckCertificateCatchesBadIssuance: the checks the corpus relies on do fail on a
// CA certificate, extra usages, another key and a foreign issuer.
func TestCheckCertificateCatchesBadIssuance(t *testing.T) {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	reqPEM, err := spec{cn: "system:node:n", orgs: nodesOrg}.build()
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(reqPEM)
	req, _ := x509.ParseCertificateRequest(block.Bytes)
	// A second CA with the same name but another key: what it signs must not chain to ca.
	otherTmpl := *caTmpl
	otherDER, err := x509.CreateCertificate(rand.Reader, &otherTmpl, &otherTmpl, otherKey.Public(), otherKey)
	if err != nil {
		t.Fatal(err)
	}
	otherCA, _ := x509.ParseCertificate(otherDER)
	issue := func(edit func(*x509.Certificate) (pub any, signer *ecdsa.PrivateKey)) []byte {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: req.Subject, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, BasicConstraintsValid: true}
		pub, signer := edit(tmpl)
		parent := ca
		if signer == otherKey {
			parent = otherCA
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	same := func(*x509.Certificate) (any, *ecdsa.PrivateKey) { return req.PublicKey, caKey }
	for _, tc := range []struct {
		name string
		cert []byte
		want string
	}{
		{"good", issue(same), ""},
		{"CA", issue(func(c *x509.Certificate) (any, *ecdsa.PrivateKey) { c.IsCA = true; return req.PublicKey, caKey }), "is a CA"},
		{"extra usage", issue(func(c *x509.Certificate) (any, *ecdsa.PrivateKey) {
			c.ExtKeyUsage = append(c.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
			return req.PublicKey, caKey
		}), "extended key usage"},
		{"cert sign", issue(func(c *x509.Certificate) (any, *ecdsa.PrivateKey) {
			c.KeyUsage |= x509.KeyUsageCertSign
			return req.PublicKey, caKey
		}), "key usage"},
		{"other key", issue(func(*x509.Certificate) (any, *ecdsa.PrivateKey) { return otherKey.Public(), caKey }), "key differs"},
		{"foreign issuer", issue(func(*x509.Certificate) (any, *ecdsa.PrivateKey) { return req.PublicKey, otherKey }), "does not chain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := &certificatesv1.CertificateSigningRequest{
				Spec:   certificatesv1.CertificateSigningRequestSpec{Request: reqPEM, Usages: clientUsages},
				Status: certificatesv1.CertificateSigningRequestStatus{Certificate: tc.cert},
			}
			got := checkCertificate(obj, ca)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Fatalf("checkCertificate = %q, want one containing %q", got, tc.want)
			}
		})
	}
}
