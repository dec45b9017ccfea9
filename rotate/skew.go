package rotate

import (
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// ErrClockSkew is wrapped by *ClockSkewError.
var ErrClockSkew = errors.New("clock skew")

// ClockSkewError says that this machine's clock is off the signer's, or the API server's,
// by more than csr.Backdate: a certificate issued moments ago is outside its validity
// period by this machine's clock (not valid yet: the clock is behind; already expired: it
// is ahead by more than the lifetime), or the API server's Date header says so. The
// certificate works all the same (the API server judges it by its own clock), but the
// clock needs fixing: other certificates, and this one's renewal deadline, are judged by
// it. errors.Is(err, ErrClockSkew) is true.
type ClockSkewError struct {
	// Offset is this machine's clock minus the other's (negative: behind).
	Offset time.Duration
	// Measured: Offset was read from the Date header of the API server's answer;
	// otherwise it is estimated from the certificate's NotBefore, taking the signer to
	// have signed at NotBefore+csr.Backdate.
	Measured bool
	// Now is this machine's time when the certificate was checked; NotBefore and NotAfter
	// are the certificate's. All zero when the certificate is valid by this machine's
	// clock and only the measured offset is off.
	Now, NotBefore, NotAfter time.Time
}

// CheckIssued returns a *ClockSkewError when cert, issued moments ago, is not valid at
// now, this machine's time; nil when it is.
func CheckIssued(cert *x509.Certificate, now time.Time) *ClockSkewError {
	if cert == nil || !now.Before(cert.NotBefore) && now.Before(cert.NotAfter) {
		return nil
	}
	return &ClockSkewError{
		Offset: now.Sub(cert.NotBefore.Add(csr.Backdate)).Round(time.Second),
		Now:    now, NotBefore: cert.NotBefore, NotAfter: cert.NotAfter,
	}
}

// NotYetValid is true when the certificate starts after Now.
func (e *ClockSkewError) notYetValid() bool { return e.Now.Before(e.NotBefore) }

// certificateInvalid is true when the certificate is outside its validity period.
func (e *ClockSkewError) certificateInvalid() bool { return !e.Now.IsZero() }

func (e *ClockSkewError) Error() string {
	offset, direction := e.Offset.Abs(), "ahead of"
	if e.Offset < 0 {
		direction = "behind"
	}
	how := "estimated from the certificate's NotBefore"
	if e.Measured {
		how = "measured from the Date header of the API server's answer"
	}
	msg := fmt.Sprintf("%s: this machine's clock is about %s %s the signer's (%s), more than the %s certificates are backdated by",
		ErrClockSkew, offset, direction, how, csr.Backdate)
	switch {
	case !e.certificateInvalid():
	case e.notYetValid():
		msg += fmt.Sprintf("; the certificate issued just now is not valid until %s, %s after this machine's time %s", utc(e.NotBefore), e.NotBefore.Sub(e.Now).Round(time.Second), utc(e.Now))
	default:
		msg += fmt.Sprintf("; the certificate issued just now expired at %s, %s before this machine's time %s", utc(e.NotAfter), e.Now.Sub(e.NotAfter).Round(time.Second), utc(e.Now))
	}
	return msg + "; fix the clock (NTP)"
}

// Unwrap makes errors.Is(err, ErrClockSkew) true.
func (e *ClockSkewError) Unwrap() error { return ErrClockSkew }

func utc(t time.Time) string { return t.UTC().Format(time.RFC3339) }
