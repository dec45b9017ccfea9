package controlplane

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

// CA is a certificate authority held in memory: the cluster CA of a test control plane.
type CA struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM []byte
	KeyPEM  []byte
}

// NewCA creates a self-signed ECDSA P-256 CA valid for ten years (sign.NewSelfSignedCA).
func NewCA(commonName string) (*CA, error) {
	ca, err := sign.NewSelfSignedCA(sign.SelfSignedOptions{CommonName: commonName})
	if err != nil {
		return nil, err
	}
	return CAFrom(ca)
}

// CAFrom holds a sign.CA (e.g. one loaded with sign.LoadCA) as the cluster CA.
func CAFrom(ca *sign.CA) (*CA, error) {
	keyPEM, err := ca.KeyPEM()
	if err != nil {
		return nil, err
	}
	return &CA{Cert: ca.Cert, Key: ca.Key, CertPEM: ca.CertPEM(), KeyPEM: keyPEM}, nil
}

// Signing is the CA as a sign.CA, for a signer under test
// (controller.Options.ClusterSigningCA).
func (ca *CA) Signing() *sign.CA { return &sign.CA{Cert: ca.Cert, Key: ca.Key} }

// ClientCert issues a client certificate for user and groups (the API server reads the CN as
// the user name and each O as a group), returning PEM certificate and key.
func (ca *CA) ClientCert(user string, groups []string, ttl time.Duration) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: user, Organization: groups},
		NotBefore:    now.Add(-5 * time.Minute),
		NotAfter:     now.Add(ttl),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("issuing client certificate for %q: %w", user, err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}
