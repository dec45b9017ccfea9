package csr

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"k8s.io/client-go/util/keyutil"
)

// KeyType names a private key algorithm and size.
type KeyType string

// The key types GenerateKey makes. The zero value means ECDSAP256, the kubelet's.
const (
	ECDSAP256 KeyType = "ECDSA-P256"
	ECDSAP384 KeyType = "ECDSA-P384"
	RSA2048   KeyType = "RSA-2048"
	RSA3072   KeyType = "RSA-3072"
	RSA4096   KeyType = "RSA-4096"
	Ed25519   KeyType = "Ed25519"

	// defaultKeyType is what the kubelet uses for its client and serving keys.
	defaultKeyType = ECDSAP256
)

// Minimum key strengths, as client-go's certificate manager enforces them.
const (
	minRSABits = 2048
	minECBits  = 256
)

// GenerateKey makes a new private key of type t from crypto/rand ("" means ECDSAP256, as the kubelet).
func GenerateKey(t KeyType) (crypto.Signer, error) {
	switch t {
	case "", ECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case RSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	case RSA4096:
		return rsa.GenerateKey(rand.Reader, 4096)
	case Ed25519:
		_, key, err := ed25519.GenerateKey(rand.Reader)
		return key, err
	default:
		return nil, fmt.Errorf("unknown key type %q (want one of %s, %s, %s, %s, %s, %s)",
			t, ECDSAP256, ECDSAP384, RSA2048, RSA3072, RSA4096, Ed25519)
	}
}

// ValidateKey rejects public keys too weak or of an unsupported algorithm for a
// certificate: RSA under minRSABits, ECDSA curves under minECBits.
func ValidateKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return errors.New("RSA public key is empty")
		}
		if bits := k.N.BitLen(); bits < minRSABits {
			return fmt.Errorf("RSA key has %d bits, at least %d are required", bits, minRSABits)
		}
	case *ecdsa.PublicKey:
		if k == nil || k.Curve == nil {
			return errors.New("ECDSA public key is empty")
		}
		if bits := k.Curve.Params().BitSize; bits < minECBits {
			return fmt.Errorf("ECDSA key on curve %s has %d bits, at least %d are required", k.Curve.Params().Name, bits, minECBits)
		}
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return fmt.Errorf("Ed25519 public key has %d bytes, want %d", len(k), ed25519.PublicKeySize)
		}
	case nil:
		return errors.New("no public key")
	default:
		return fmt.Errorf("unsupported public key type %T (want RSA, ECDSA or Ed25519)", pub)
	}
	return nil
}

// MarshalKeyPEM encodes a private key the way the kubelet writes it: "EC PRIVATE KEY"
// for ECDSA, "RSA PRIVATE KEY" for RSA and PKCS#8 "PRIVATE KEY" for Ed25519.
func MarshalKeyPEM(key crypto.Signer) ([]byte, error) {
	var block *pem.Block
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return nil, fmt.Errorf("encoding ECDSA private key: %w", err)
		}
		block = &pem.Block{Type: keyutil.ECPrivateKeyBlockType, Bytes: der}
	case *rsa.PrivateKey:
		block = &pem.Block{Type: keyutil.RSAPrivateKeyBlockType, Bytes: x509.MarshalPKCS1PrivateKey(k)}
	case ed25519.PrivateKey:
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, fmt.Errorf("encoding Ed25519 private key: %w", err)
		}
		block = &pem.Block{Type: keyutil.PrivateKeyBlockType, Bytes: der}
	default:
		return nil, fmt.Errorf("unsupported private key type %T (want RSA, ECDSA or Ed25519)", key)
	}
	return pem.EncodeToMemory(block), nil
}

// ParseKeyPEM reads the first private key in PEM data ("EC PRIVATE KEY", "RSA PRIVATE
// KEY" or PKCS#8 "PRIVATE KEY"; other blocks such as certificates are skipped, so a
// kubelet-client-current.pem file works) and checks it with ValidateKey.
func ParseKeyPEM(data []byte) (crypto.Signer, error) {
	parsed, err := keyutil.ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	key, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key of type %T cannot sign", parsed)
	}
	if err := ValidateKey(key.Public()); err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	return key, nil
}
