package node

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"k8s.io/client-go/rest"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/rotate"
)

// clockSkew judges a certificate just issued and the measured offset (measured false:
// none). It returns nil when neither shows skew beyond csr.Backdate.
func clockSkew(cert *x509.Certificate, now time.Time, offset time.Duration, measured bool) *rotate.ClockSkewError {
	if skew := rotate.CheckIssued(cert, now); skew != nil {
		if measured {
			skew.Offset, skew.Measured = offset, true
		}
		return skew
	}
	if measured && offset.Abs() > csr.Backdate {
		return &rotate.ClockSkewError{Offset: offset, Measured: true}
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
