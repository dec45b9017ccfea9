package node

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"k8s.io/client-go/rest"

	"github.com/tlsbootstrap/tlsbootstrap/rotate"
)

// ClockSkewError is Result.ClockSkew: this node's clock is off the API server's by more
// than rotate.Backdate, or the certificate just issued is outside its validity period by
// this node's clock. The bootstrap itself succeeded (the API server judges certificates
// by its own clock), but the clock needs fixing: other certificates, and this one's
// renewal deadline, are judged by it. errors.Is(err, ErrClockSkew) is true.
type ClockSkewError struct {
	// Offset is this node's clock minus the API server's (negative: behind).
	Offset time.Duration
	// Measured: Offset was read from the Date header of the API server's answer;
	// otherwise it is estimated from the certificate's NotBefore (see rotate.SkewError).
	Measured bool
	// Certificate is the issued certificate's *rotate.SkewError, nil when it is valid by
	// this node's clock.
	Certificate error
}

func (e *ClockSkewError) Error() string {
	offset, direction := e.Offset, "ahead of"
	if offset < 0 {
		offset, direction = -offset, "behind"
	}
	how := "estimated from the certificate's NotBefore"
	if e.Measured {
		how = "measured from the Date header of its answer"
	}
	msg := fmt.Sprintf("clock skew: this node's clock is %s %s the API server's (%s), more than the %s certificates are backdated by", offset, direction, how, rotate.Backdate)
	if e.Certificate != nil {
		msg += "; " + strings.TrimPrefix(e.Certificate.Error(), rotate.ErrClockSkew.Error()+": ")
	} else {
		msg += "; fix the clock (NTP)"
	}
	return msg
}

// Unwrap makes errors.Is find ErrClockSkew, and rotate.ErrClockSkew when the certificate
// is affected.
func (e *ClockSkewError) Unwrap() []error {
	if e.Certificate != nil {
		return []error{ErrClockSkew, e.Certificate}
	}
	return []error{ErrClockSkew}
}

// clockSkew judges a certificate just issued and the measured offset (measured false:
// none). It returns nil when neither shows skew beyond rotate.Backdate.
func clockSkew(cert *x509.Certificate, now time.Time, offset time.Duration, measured bool) *ClockSkewError {
	certErr := rotate.CheckIssued(cert, now)
	var skew *rotate.SkewError
	if errors.As(certErr, &skew) {
		e := &ClockSkewError{Offset: skew.Offset(), Certificate: skew}
		if measured {
			e.Offset, e.Measured = offset, true
		}
		return e
	}
	if measured && (offset > rotate.Backdate || offset < -rotate.Backdate) {
		return &ClockSkewError{Offset: offset, Measured: true}
	}
	return nil
}

// measureClockOffset asks the API server's /healthz and compares its Date header with
// now, taken halfway through the request: this node's clock minus the server's, to the
// second (the header's resolution). ok is false when no answer with a Date came back.
func measureClockOffset(ctx context.Context, cfg *rest.Config, now func() time.Time) (offset time.Duration, ok bool, err error) {
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return 0, false, err
	}
	u, err := url.JoinPath(cfg.Host, "/healthz")
	if err != nil {
		return 0, false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, false, err
	}
	sent := now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, false, err
	}
	received := now()
	_ = resp.Body.Close()
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return 0, false, fmt.Errorf("the API server's answer has no usable Date header: %w", err)
	}
	local := sent.Add(received.Sub(sent) / 2)
	// The header truncates to the second: its middle is half a second later.
	return local.Sub(date.Add(500 * time.Millisecond)).Round(time.Second), true, nil
}
