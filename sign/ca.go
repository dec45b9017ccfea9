package sign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/tlsbootstrap/tlsbootstrap/internal/atomicfile"
)

// CA is a certificate authority: one CA certificate and the private key that matches it.
// A *CA is also a CAProvider that always returns itself.
type CA struct {
	// Cert is the CA certificate; issued certificates chain to it.
	Cert *x509.Certificate
	// Key is the CA's private key (RSA, ECDSA or Ed25519).
	Key crypto.Signer
}

// Current returns ca itself, so a fixed CA can be used wherever a CAProvider is asked for.
func (ca *CA) Current() (*CA, error) {
	if ca == nil || ca.Cert == nil || ca.Key == nil {
		return nil, errors.New("CA has no certificate or key")
	}
	return ca, nil
}

// MarshalJSON shows the CA certificate (PEM) and never the key: a CA serialized by
// accident, inside an options struct, must not carry it.
func (ca CA) MarshalJSON() ([]byte, error) {
	if ca.Cert == nil {
		return []byte("null"), nil
	}
	return json.Marshal(struct {
		Cert string `json:"cert"`
		Key  string `json:"key"`
	}{string(ca.CertPEM()), "<redacted>"})
}

// CertPEM returns the CA certificate as one PEM "CERTIFICATE" block.
func (ca *CA) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

// KeyPEM returns the CA key as a PKCS#8 PEM "PRIVATE KEY" block (the one format that holds
// RSA, ECDSA and Ed25519 keys alike).
func (ca *CA) KeyPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(ca.Key)
	if err != nil {
		return nil, fmt.Errorf("encoding CA key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// WriteFiles writes the CA certificate and key as PEM files, each atomically (temporary
// file, fsync, rename) with mode 0600, so a reader never sees half a file.
func (ca *CA) WriteFiles(certFile, keyFile string) error {
	keyPEM, err := ca.KeyPEM()
	if err != nil {
		return err
	}
	if err := atomicfile.Write(certFile, ca.CertPEM(), 0o600); err != nil {
		return fmt.Errorf("writing CA certificate file %q: %w", certFile, err)
	}
	if err := atomicfile.Write(keyFile, keyPEM, 0o600); err != nil {
		return fmt.Errorf("writing CA key file %q: %w", keyFile, err)
	}
	return nil
}

// LoadCA reads a CA from PEM files: certFile must hold exactly one certificate, a CA
// certificate, and keyFile its private key (PKCS#1, SEC1 or PKCS#8; RSA, ECDSA or Ed25519).
// Errors name the file at fault; they never contain key material.
func LoadCA(certFile, keyFile string) (*CA, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("reading CA certificate file: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("reading CA key file: %w", err)
	}
	return parseCA(certPEM, keyPEM, fmt.Sprintf("CA certificate file %q", certFile), fmt.Sprintf("CA key file %q", keyFile))
}

// ParseCA is LoadCA over PEM bytes already in memory.
func ParseCA(certPEM, keyPEM []byte) (*CA, error) {
	return parseCA(certPEM, keyPEM, "CA certificate", "CA key")
}

func parseCA(certPEM, keyPEM []byte, certWhat, keyWhat string) (*CA, error) {
	cert, err := parseCACert(certPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", certWhat, err)
	}
	key, err := parsePrivateKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyWhat, err)
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("%s does not match the public key of %s", keyWhat, certWhat)
	}
	return &CA{Cert: cert, Key: key}, nil
}

func parseCACert(data []byte) (*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("unexpected PEM block %q, want only \"CERTIFICATE\"", block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) != 1 {
		return nil, fmt.Errorf("want exactly 1 PEM certificate, found %d", len(certs))
	}
	cert := certs[0]
	if !cert.BasicConstraintsValid || !cert.IsCA {
		return nil, fmt.Errorf("certificate %q is not a CA (basic constraints CA:TRUE missing)", cert.Subject.String())
	}
	if cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("certificate %q may not sign certificates (key usage lacks cert sign)", cert.Subject.String())
	}
	return cert, nil
}

// parsePrivateKey accepts exactly one private key block; "EC PARAMETERS" blocks written by
// openssl ecparam are skipped. Parse errors are reported without the key bytes.
func parsePrivateKey(data []byte) (crypto.Signer, error) {
	var found crypto.Signer
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type == "EC PARAMETERS" {
			continue
		}
		if found != nil {
			return nil, errors.New("more than one private key PEM block")
		}
		if _, encrypted := block.Headers["Proc-Type"]; encrypted || block.Type == "ENCRYPTED PRIVATE KEY" {
			return nil, errors.New("encrypted private keys are not supported")
		}
		key, err := parseKeyBlock(block)
		if err != nil {
			return nil, err
		}
		found = key
	}
	if found == nil {
		return nil, errors.New("no private key PEM block found")
	}
	return found, nil
}

func parseKeyBlock(block *pem.Block) (crypto.Signer, error) {
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("malformed PKCS#1 RSA private key")
		}
		return key, nil
	case "EC PRIVATE KEY":
		key, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("malformed SEC 1 EC private key")
		}
		return key, nil
	case "PRIVATE KEY":
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("malformed PKCS#8 private key")
		}
		switch k := key.(type) {
		case *rsa.PrivateKey:
			return k, nil
		case *ecdsa.PrivateKey:
			return k, nil
		case ed25519.PrivateKey:
			return k, nil
		default:
			return nil, fmt.Errorf("unsupported PKCS#8 key type %T", key)
		}
	default:
		return nil, fmt.Errorf("unexpected PEM block %q, want \"RSA PRIVATE KEY\", \"EC PRIVATE KEY\" or \"PRIVATE KEY\"", block.Type)
	}
}
