package rotate

import (
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// Backdate is how far signers put a certificate's NotBefore before the moment they sign
// (kube-controller-manager and package sign: 5 minutes), so that a machine whose clock is
// behind the signer's by less than that still finds a fresh certificate valid.
const Backdate = 5 * time.Minute

// ErrClockSkew is wrapped by *SkewError.
var ErrClockSkew = errors.New("clock skew")

// SkewError says that a certificate issued moments ago is outside its validity period by
// this machine's clock: not valid yet (the clock is behind the signer's by more than
// Backdate) or already expired (the clock is ahead by more than the lifetime after
// Backdate).
type SkewError struct {
	// Now is this machine's time when the certificate was checked.
	Now time.Time
	// NotBefore and NotAfter are the certificate's.
	NotBefore, NotAfter time.Time
}

// CheckIssued returns a *SkewError when cert, issued moments ago, is not valid at now, this
// machine's time; nil when it is.
func CheckIssued(cert *x509.Certificate, now time.Time) error {
	if cert == nil {
		return nil
	}
	if now.Before(cert.NotBefore) || !now.Before(cert.NotAfter) {
		return &SkewError{Now: now, NotBefore: cert.NotBefore, NotAfter: cert.NotAfter}
	}
	return nil
}

// NotYetValid is true when the certificate starts after Now, false when it has expired.
func (e *SkewError) NotYetValid() bool { return e.Now.Before(e.NotBefore) }

// Offset estimates this machine's clock minus the signer's (negative: behind), assuming
// the signer signed at NotBefore+Backdate and the certificate was checked right after.
func (e *SkewError) Offset() time.Duration {
	return e.Now.Sub(e.NotBefore.Add(Backdate)).Round(time.Second)
}

func (e *SkewError) Error() string {
	offset := e.Offset()
	direction := "ahead of"
	if offset < 0 {
		offset, direction = -offset, "behind"
	}
	var what string
	if e.NotYetValid() {
		what = fmt.Sprintf("is not valid until %s, %s after this machine's time %s", utc(e.NotBefore), e.NotBefore.Sub(e.Now).Round(time.Second), utc(e.Now))
	} else {
		what = fmt.Sprintf("expired at %s, %s before this machine's time %s", utc(e.NotAfter), e.Now.Sub(e.NotAfter).Round(time.Second), utc(e.Now))
	}
	return fmt.Sprintf("%s: the certificate issued just now %s: this machine's clock is about %s %s the signer's (signers backdate certificates by %s, which covers smaller skew); fix the clock (NTP)",
		ErrClockSkew, what, offset, direction, Backdate)
}

// Unwrap makes errors.Is(err, ErrClockSkew) true.
func (e *SkewError) Unwrap() error { return ErrClockSkew }

func utc(t time.Time) string { return t.UTC().Format(time.RFC3339) }
