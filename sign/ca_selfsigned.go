package sign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"time"
)

// KeyType names a CA key algorithm for NewSelfSignedCA.
type KeyType string

// Key types NewSelfSignedCA can generate.
const (
	KeyECDSAP256 KeyType = "ECDSA-P256"
	KeyECDSAP384 KeyType = "ECDSA-P384"
	KeyRSA2048   KeyType = "RSA-2048"
	KeyRSA3072   KeyType = "RSA-3072"
	KeyRSA4096   KeyType = "RSA-4096"
	KeyEd25519   KeyType = "Ed25519"
)

// SelfSignedOptions configure NewSelfSignedCA. The zero value is usable.
type SelfSignedOptions struct {
	// CommonName of the CA. Default "tlsbootstrap-ca".
	CommonName string
	// KeyType of the CA key. Default KeyECDSAP256.
	KeyType KeyType
	// Validity is the CA's lifetime from now. Default 10 years.
	Validity time.Duration
	// Now is the clock; default time.Now. The CA is backdated 5 minutes from it.
	Now func() time.Time
}

// NewSelfSignedCA creates a new key and a self-signed CA certificate, for tests, the
// quickstart and small clusters. Write it out with (*CA).WriteFiles.
func NewSelfSignedCA(opts SelfSignedOptions) (*CA, error) {
	if opts.CommonName == "" {
		opts.CommonName = "tlsbootstrap-ca"
	}
	if opts.KeyType == "" {
		opts.KeyType = KeyECDSAP256
	}
	if opts.Validity == 0 {
		opts.Validity = 10 * 365 * 24 * time.Hour
	}
	if opts.Validity < 0 {
		return nil, fmt.Errorf("self-signed CA: validity %s is negative", opts.Validity)
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	key, err := generateKey(opts.KeyType)
	if err != nil {
		return nil, fmt.Errorf("self-signed CA: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, fmt.Errorf("self-signed CA: %w", err)
	}
	t := now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: opts.CommonName},
		NotBefore:             t.Add(-backdate),
		NotAfter:              t.Add(opts.Validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("self-signed CA: signing: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("self-signed CA: %w", err)
	}
	return &CA{Cert: cert, Key: key}, nil
}

func generateKey(kt KeyType) (crypto.Signer, error) {
	switch kt {
	case KeyECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case KeyECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case KeyRSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case KeyRSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	case KeyRSA4096:
		return rsa.GenerateKey(rand.Reader, 4096)
	case KeyEd25519:
		_, key, err := ed25519.GenerateKey(rand.Reader)
		return key, err
	default:
		return nil, fmt.Errorf("unknown key type %q", kt)
	}
}
