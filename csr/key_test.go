package csr_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

func TestGenerateKey(t *testing.T) {
	tests := []struct {
		keyType  csr.KeyType
		check    func(crypto.Signer) bool
		pemBlock string
	}{
		{"", isCurve(elliptic.P256()), "EC PRIVATE KEY"},
		{csr.ECDSAP256, isCurve(elliptic.P256()), "EC PRIVATE KEY"},
		{csr.ECDSAP384, isCurve(elliptic.P384()), "EC PRIVATE KEY"},
		{csr.RSA2048, isRSA(2048), "RSA PRIVATE KEY"},
		{csr.RSA3072, isRSA(3072), "RSA PRIVATE KEY"},
		{csr.Ed25519, func(k crypto.Signer) bool { _, ok := k.(ed25519.PrivateKey); return ok }, "PRIVATE KEY"},
	}
	for _, tc := range tests {
		t.Run(string(tc.keyType), func(t *testing.T) {
			key, err := csr.GenerateKey(tc.keyType)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(key) {
				t.Fatalf("GenerateKey(%q) made a %T", tc.keyType, key)
			}
			if err := csr.ValidateKey(key.Public()); err != nil {
				t.Fatalf("generated key rejected: %v", err)
			}
			data, err := csr.MarshalKeyPEM(key)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(data), "-----BEGIN "+tc.pemBlock+"-----") {
				t.Fatalf("PEM starts %q, want block %s", strings.SplitN(string(data), "\n", 2)[0], tc.pemBlock)
			}
			back, err := csr.ParseKeyPEM(data)
			if err != nil {
				t.Fatal(err)
			}
			if !back.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(key.Public()) {
				t.Fatal("key changed through MarshalKeyPEM/ParseKeyPEM")
			}
		})
	}
	if _, err := csr.GenerateKey("DSA-1024"); err == nil || !strings.Contains(err.Error(), "DSA-1024") {
		t.Fatalf("unknown key type: %v, want an error naming it", err)
	}
}

func TestValidateKeyRejectsWeakKeys(t *testing.T) {
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		pub  crypto.PublicKey
		want string
	}{
		{"RSA 1024", &rsa1024.PublicKey, "1024 bits, at least 2048"},
		{"ECDSA P-224", &p224.PublicKey, "224 bits, at least 256"},
		{"nil", nil, "no public key"},
		{"unsupported", "a string", "unsupported public key type string"},
		{"short Ed25519", ed25519.PublicKey{1, 2, 3}, "3 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := csr.ValidateKey(tc.pub)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	// A weak key is refused when read from PEM and when making a request.
	data, err := csr.MarshalKeyPEM(rsa1024)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := csr.ParseKeyPEM(data); err == nil {
		t.Fatal("ParseKeyPEM accepted an RSA 1024 key")
	}
	if _, err := csr.NodeClientRequest("n1", rsa1024); err == nil || !strings.Contains(err.Error(), "2048") {
		t.Fatalf("NodeClientRequest with RSA 1024: %v", err)
	}
}

func TestParseKeyPEMErrors(t *testing.T) {
	for name, data := range map[string]string{
		"empty":       "",
		"garbage":     "not a key",
		"certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
		"bad EC":      "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := csr.ParseKeyPEM([]byte(data)); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func isCurve(c elliptic.Curve) func(crypto.Signer) bool {
	return func(k crypto.Signer) bool {
		ec, ok := k.(*ecdsa.PrivateKey)
		return ok && ec.Curve == c
	}
}

func isRSA(bits int) func(crypto.Signer) bool {
	return func(k crypto.Signer) bool {
		r, ok := k.(*rsa.PrivateKey)
		return ok && r.N.BitLen() == bits
	}
}
