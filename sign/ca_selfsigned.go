package sign

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"time"

	"k8s.io/utils/clock"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// SelfSignedOptions configure NewSelfSignedCA. The zero value is usable.
type SelfSignedOptions struct {
	// CommonName of the CA. Default "tlsbootstrap-ca".
	CommonName string
	// KeyType of the CA key. Default csr.ECDSAP256.
	KeyType csr.KeyType
	// Validity is the CA's lifetime from now. Default 10 years.
	Validity time.Duration
	// Clock tells the time the CA starts at (backdated by csr.Backdate). Default the
	// real clock.
	Clock clock.PassiveClock
}

// NewSelfSignedCA creates a new key and a self-signed CA certificate, for tests, the
// quickstart and small clusters. Write it out with (*CA).WriteFiles.
func NewSelfSignedCA(opts SelfSignedOptions) (*CA, error) {
	if opts.CommonName == "" {
		opts.CommonName = "tlsbootstrap-ca"
	}
	if opts.KeyType == "" {
		opts.KeyType = csr.ECDSAP256
	}
	if opts.Validity == 0 {
		opts.Validity = 10 * 365 * 24 * time.Hour
	}
	if opts.Validity < 0 {
		return nil, fmt.Errorf("self-signed CA: validity %s is negative", opts.Validity)
	}
	now := time.Now
	if opts.Clock != nil {
		now = opts.Clock.Now
	}
	key, err := csr.GenerateKey(opts.KeyType)
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
		NotBefore:             t.Add(-csr.Backdate),
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
