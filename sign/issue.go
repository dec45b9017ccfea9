package sign

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// Durations of the issuance rules (kube-controller-manager's signer, pkg/controller/certificates/authority).
const (
	// DefaultSigningDuration is kube-controller-manager's --cluster-signing-duration default.
	DefaultSigningDuration = 8760 * time.Hour
	// minTTL is the floor for spec.expirationSeconds (twice the backdate).
	minTTL = 10 * time.Minute
	// shortTTL: below it the backdate is added to the lifetime rather than taken from it.
	shortTTL = 8 * time.Hour
)

// certificateTTL is the lifetime to issue for a request: maxTTL (the cluster signing
// duration; DefaultSigningDuration when ≤ 0) when expirationSeconds is unset or above it,
// minTTL when below that, else as asked.
func certificateTTL(expirationSeconds *int32, maxTTL time.Duration) time.Duration {
	if maxTTL <= 0 {
		maxTTL = DefaultSigningDuration
	}
	if expirationSeconds == nil {
		return maxTTL
	}
	switch asked := time.Duration(*expirationSeconds) * time.Second; {
	case asked > maxTTL:
		return maxTTL
	case asked < minTTL:
		return minTTL
	default:
		return asked
	}
}

// Validity is the NotBefore/NotAfter of a certificate with lifetime ttl issued at now by a
// CA that expires at caNotAfter: NotBefore = now − 5m; NotAfter = now + ttl for ttl < 8h,
// else now + ttl − 5m; NotAfter clamped to caNotAfter. An expired CA is an error.
func validity(now time.Time, ttl time.Duration, caNotAfter time.Time) (notBefore, notAfter time.Time, err error) {
	notBefore = now.Add(-csr.Backdate)
	if ttl < shortTTL {
		notAfter = now.Add(ttl)
	} else {
		notAfter = now.Add(ttl - csr.Backdate)
	}
	if !notAfter.Before(caNotAfter) {
		notAfter = caNotAfter
	}
	if !notBefore.Before(caNotAfter) || !now.Before(caNotAfter) {
		return time.Time{}, time.Time{}, fmt.Errorf("the signing CA expired at %s: refusing to sign", caNotAfter.UTC().Format(time.RFC3339))
	}
	return notBefore, notAfter, nil
}

// Issue signs csr's request with ca by the rules of kube-controller-manager's signer (pkg/controller/certificates/signer): the request must pass the
// rules of spec.signerName (else a *ValidationError); lifetime from certificateTTL and
// Validity; a random 128-bit serial; subject, DNS/IP/email/URI SANs and public key from the
// request and no other extension of it; CA:false; key usages from spec.usages. It checks
// neither approval nor conditions: that is the Signer's job. It returns a PEM certificate.
func Issue(ca *CA, req *certificatesv1.CertificateSigningRequest, now time.Time, maxTTL time.Duration) ([]byte, error) {
	if ca == nil || ca.Cert == nil || ca.Key == nil {
		return nil, errors.New("issue: no CA")
	}
	if req == nil {
		return nil, errors.New("issue: no CSR")
	}
	return issue(ca, req, now, maxTTL, validateRequest)
}

// issue is Issue with the request validated by validate instead of the built-in rules.
func issue(ca *CA, req *certificatesv1.CertificateSigningRequest, now time.Time, maxTTL time.Duration,
	validate func(signerName string, req *x509.CertificateRequest, usages []certificatesv1.KeyUsage) error) ([]byte, error) {
	cr, err := csr.ParseRequestPEM(req.Spec.Request)
	if err != nil {
		return nil, &ValidationError{SignerName: req.Spec.SignerName, Err: err}
	}
	if err := validate(req.Spec.SignerName, cr, req.Spec.Usages); err != nil {
		return nil, err
	}
	keyUsage, extKeyUsage, err := KeyUsages(req.Spec.Usages)
	if err != nil {
		return nil, &ValidationError{SignerName: req.Spec.SignerName, Err: err}
	}
	notBefore, notAfter, err := validity(now, certificateTTL(req.Spec.ExpirationSeconds, maxTTL), ca.Cert.NotAfter)
	if err != nil {
		return nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               cr.Subject,
		DNSNames:              cr.DNSNames,
		IPAddresses:           cr.IPAddresses,
		EmailAddresses:        cr.EmailAddresses,
		URIs:                  cr.URIs,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              keyUsage,
		ExtKeyUsage:           extKeyUsage,
		BasicConstraintsValid: true,
		IsCA:                  false,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, cr.PublicKey, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("signing certificate for %q: %w", cr.Subject.CommonName, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

var serialLimit = new(big.Int).Lsh(big.NewInt(1), 128)

// randomSerial is a uniformly random positive serial below 2^128.
func randomSerial() (*big.Int, error) {
	for {
		n, err := rand.Int(rand.Reader, serialLimit)
		if err != nil {
			return nil, fmt.Errorf("generating serial number: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

var keyUsageOf = map[certificatesv1.KeyUsage]x509.KeyUsage{
	certificatesv1.UsageSigning:           x509.KeyUsageDigitalSignature,
	certificatesv1.UsageDigitalSignature:  x509.KeyUsageDigitalSignature,
	certificatesv1.UsageContentCommitment: x509.KeyUsageContentCommitment,
	certificatesv1.UsageKeyEncipherment:   x509.KeyUsageKeyEncipherment,
	certificatesv1.UsageKeyAgreement:      x509.KeyUsageKeyAgreement,
	certificatesv1.UsageDataEncipherment:  x509.KeyUsageDataEncipherment,
	certificatesv1.UsageCertSign:          x509.KeyUsageCertSign,
	certificatesv1.UsageCRLSign:           x509.KeyUsageCRLSign,
	certificatesv1.UsageEncipherOnly:      x509.KeyUsageEncipherOnly,
	certificatesv1.UsageDecipherOnly:      x509.KeyUsageDecipherOnly,
}

var extKeyUsageOf = map[certificatesv1.KeyUsage]x509.ExtKeyUsage{
	certificatesv1.UsageAny:             x509.ExtKeyUsageAny,
	certificatesv1.UsageServerAuth:      x509.ExtKeyUsageServerAuth,
	certificatesv1.UsageClientAuth:      x509.ExtKeyUsageClientAuth,
	certificatesv1.UsageCodeSigning:     x509.ExtKeyUsageCodeSigning,
	certificatesv1.UsageEmailProtection: x509.ExtKeyUsageEmailProtection,
	certificatesv1.UsageSMIME:           x509.ExtKeyUsageEmailProtection,
	certificatesv1.UsageIPsecEndSystem:  x509.ExtKeyUsageIPSECEndSystem,
	certificatesv1.UsageIPsecTunnel:     x509.ExtKeyUsageIPSECTunnel,
	certificatesv1.UsageIPsecUser:       x509.ExtKeyUsageIPSECUser,
	certificatesv1.UsageTimestamping:    x509.ExtKeyUsageTimeStamping,
	certificatesv1.UsageOCSPSigning:     x509.ExtKeyUsageOCSPSigning,
	certificatesv1.UsageMicrosoftSGC:    x509.ExtKeyUsageMicrosoftServerGatedCrypto,
	certificatesv1.UsageNetscapeSGC:     x509.ExtKeyUsageNetscapeServerGatedCrypto,
}

// KeyUsages maps spec.usages to x509 key usage bits and sorted, de-duplicated extended key
// usages. An unknown usage is an error naming it.
func KeyUsages(usages []certificatesv1.KeyUsage) (x509.KeyUsage, []x509.ExtKeyUsage, error) {
	var ku x509.KeyUsage
	var ext []x509.ExtKeyUsage
	var unknown []certificatesv1.KeyUsage
	for _, u := range usages {
		if bit, ok := keyUsageOf[u]; ok {
			ku |= bit
		} else if e, ok := extKeyUsageOf[u]; ok {
			if !slices.Contains(ext, e) {
				ext = append(ext, e)
			}
		} else {
			unknown = append(unknown, u)
		}
	}
	if len(unknown) > 0 {
		return 0, nil, fmt.Errorf("unrecognized usage values: %q", unknown)
	}
	slices.Sort(ext)
	return ku, ext, nil
}
