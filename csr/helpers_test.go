package csr_test

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
)

// issue plays the signer in tests: a client certificate from ca for the parsed request,
// with its subject, SANs and public key, valid from notBefore for ttl.
func issue(t testing.TB, ca *controlplane.CA, requestPEM []byte, notBefore time.Time, ttl time.Duration) []byte {
	t.Helper()
	req, err := csr.ParseRequestPEM(requestPEM)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      req.Subject,
		DNSNames:     req.DNSNames,
		IPAddresses:  req.IPAddresses,
		NotBefore:    notBefore,
		NotAfter:     notBefore.Add(ttl),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, req.PublicKey, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func newCA(t testing.TB) *controlplane.CA {
	t.Helper()
	ca, err := controlplane.NewCA("csr-test-ca")
	if err != nil {
		t.Fatal(err)
	}
	return ca
}
