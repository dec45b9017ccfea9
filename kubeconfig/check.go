package kubeconfig

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"
)

// Reasons a kubeconfig is not usable; Check wraps them with the details.
var (
	// ErrNoClientCertificate: the current user has no client certificate (e.g. a token).
	ErrNoClientCertificate = errors.New("no client certificate")
	// ErrExpired: a certificate's NotAfter has passed.
	ErrExpired = errors.New("client certificate has expired")
	// ErrNotYetValid: a certificate's NotBefore is in the future; usually clock skew.
	ErrNotYetValid = errors.New("client certificate is not valid yet")
	// ErrKeyMismatch: the client key is not the certificate's key.
	ErrKeyMismatch = errors.New("client key does not match the client certificate")
)

// Status describes a kubeconfig's client certificate.
type Status struct {
	// Server is the current context's API server URL.
	Server string
	// CertificateFile is where the certificate was read ("" when embedded).
	CertificateFile string
	// Subject is the leaf certificate's subject: CN = user name, O = groups.
	Subject string
	// NotBefore is the latest NotBefore and NotAfter the earliest NotAfter over the
	// certificates present.
	NotBefore, NotAfter time.Time
}

// Check tells whether the kubeconfig at path is usable at now, as the kubelet decides
// whether to skip bootstrapping: it parses, its current user has a client certificate
// (embedded or in a file) and key, every certificate is valid at now and the key
// matches the leaf. A missing file gives an error satisfying errors.Is(err,
// fs.ErrNotExist). The Status is returned whenever the certificate could be read, also
// with ErrExpired or ErrNotYetValid, so callers can report its dates.
func Check(path string, now time.Time) (*Status, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	cfg, err := RESTConfig(path)
	if err != nil {
		return nil, err
	}
	certPEM, keyPEM := cfg.CertData, cfg.KeyData
	if len(certPEM) == 0 && cfg.CertFile != "" {
		if certPEM, err = os.ReadFile(cfg.CertFile); err != nil {
			return nil, fmt.Errorf("kubeconfig %s: client certificate: %w", path, err)
		}
	}
	if len(certPEM) == 0 {
		return nil, fmt.Errorf("kubeconfig %s: %w", path, ErrNoClientCertificate)
	}
	certs, err := certutil.ParseCertsPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: client certificate %s: %w", path, orEmbedded(cfg.CertFile), err)
	}
	st := &Status{Server: cfg.Host, CertificateFile: cfg.CertFile, Subject: certs[0].Subject.String()}
	for i, c := range certs {
		if i == 0 || c.NotBefore.After(st.NotBefore) {
			st.NotBefore = c.NotBefore
		}
		if i == 0 || c.NotAfter.Before(st.NotAfter) {
			st.NotAfter = c.NotAfter
		}
	}
	if now.After(st.NotAfter) {
		return st, fmt.Errorf("kubeconfig %s: %w: NotAfter %s is before now (%s)", path, ErrExpired, utc(st.NotAfter), utc(now))
	}
	if now.Before(st.NotBefore) {
		return st, fmt.Errorf("kubeconfig %s: %w: NotBefore %s is after now (%s); check this machine's clock", path, ErrNotYetValid, utc(st.NotBefore), utc(now))
	}
	if len(keyPEM) == 0 && cfg.KeyFile != "" {
		if keyPEM, err = os.ReadFile(cfg.KeyFile); err != nil {
			return st, fmt.Errorf("kubeconfig %s: client key: %w", path, err)
		}
	}
	if len(keyPEM) == 0 {
		return st, fmt.Errorf("kubeconfig %s: client certificate has no client key", path)
	}
	if err := keyMatches(certs[0], keyPEM); err != nil {
		return st, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	return st, nil
}

func keyMatches(leaf *x509.Certificate, keyPEM []byte) error {
	parsed, err := keyutil.ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		return fmt.Errorf("client key: %w", err)
	}
	key, ok := parsed.(crypto.Signer)
	if !ok {
		return fmt.Errorf("client key of type %T cannot sign", parsed)
	}
	pub, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return ErrKeyMismatch
	}
	return nil
}

func orEmbedded(file string) string {
	if file == "" {
		return "(embedded)"
	}
	return file
}

func utc(t time.Time) string { return t.UTC().Format(time.RFC3339) }
