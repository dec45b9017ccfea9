package node_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/klog/v2"

	"k8s.io/klog/v2/textlogger"

	"github.com/tlsbootstrap/tlsbootstrap/internal/faults"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/node"
	"github.com/tlsbootstrap/tlsbootstrap/rotate"
)

// TestBootstrapWithClockSkew bootstraps nodes whose clock (Options.Clock) is off the API
// server's. Every bootstrap succeeds; beyond the 5-minute backdate the SDK warns, naming
// clock skew and the offset (in Result.ClockSkew and the log); within it, it says nothing.
func TestBootstrapWithClockSkew(t *testing.T) {
	ten := int32(600)
	var figures []string
	faults.Record(t, "node clock skew (bootstrap)", func() string { return strings.Join(figures, "; ") })

	for i, tc := range []struct {
		name    string
		skew    time.Duration
		seconds *int32 // requested certificate lifetime; nil: the signer's 24h
		// warn: the offset the warning must name ("" for no warning); cert: what it
		// must say about the certificate ("" when the certificate is valid by the node).
		warn, cert string
	}{
		{name: "10m behind", skew: -10 * time.Minute, warn: "behind", cert: "is not valid until"},
		{name: "2m behind", skew: -2 * time.Minute},
		{name: "2m ahead", skew: 2 * time.Minute},
		{name: "10m ahead", skew: 10 * time.Minute, warn: "ahead of"},
		{name: "10m ahead, 10-minute certificate", skew: 10 * time.Minute, seconds: &ten, warn: "ahead of", cert: "expired at"},
	} {
		nodeName := fmt.Sprintf("offset-node-%d", i)
		t.Run(tc.name, func(t *testing.T) {
			_, bootstrapPath := newToken(t, time.Now().Add(time.Hour), approvedGroup)
			opts := nodeOptions(t, bootstrapPath, nodeName) // not named "skew": the log is searched for it
			opts.ExpirationSeconds = tc.seconds
			opts.Clock = offsetClock(tc.skew)
			var logs testenv.SyncBuffer
			ctx, cancel := context.WithTimeout(klog.NewContext(context.Background(), textlogger.NewLogger(textlogger.NewConfig(textlogger.Output(&logs)))), time.Minute)
			defer cancel()

			res, err := node.Bootstrap(ctx, opts)
			if err != nil {
				t.Fatalf("bootstrap with the clock %s off: %v", tc.skew, err)
			}
			if d := res.ClockOffset - tc.skew; d < -2*time.Second || d > 2*time.Second {
				t.Errorf("measured clock offset %s, want %s ± 2s", res.ClockOffset, tc.skew)
			}
			if tc.warn == "" {
				if res.ClockSkew != nil {
					t.Errorf("warning within the backdate: %v", res.ClockSkew)
				}
				if strings.Contains(strings.ToLower(logs.String()), "skew") {
					t.Errorf("the log mentions skew within the backdate:\n%s", logs.String())
				}
				if now := opts.Clock.Now(); now.Before(res.Certificate.NotBefore) || !now.Before(res.Certificate.NotAfter) {
					t.Errorf("certificate %s–%s is not valid at the node's time %s: the backdate did not cover %s", res.Certificate.NotBefore, res.Certificate.NotAfter, now, tc.skew)
				}
				figures = append(figures, fmt.Sprintf("%+v: no warning", tc.skew))
				return
			}
			if res.ClockSkew == nil {
				t.Fatalf("no clock skew warning with the clock %s off", tc.skew)
			}
			if d := res.ClockSkew.Offset - tc.skew; !res.ClockSkew.Measured || d.Abs() > 2*time.Second {
				t.Errorf("warning's offset %s (measured %v), want %s ± 2s measured", res.ClockSkew.Offset, res.ClockSkew.Measured, tc.skew)
			}
			named := res.ClockSkew.Offset.Abs().String() + " " + tc.warn
			msg := res.ClockSkew.Error()
			for _, want := range []string{"clock skew", named, "Date header", tc.cert} {
				if !strings.Contains(msg, want) {
					t.Errorf("warning %q does not contain %q", msg, want)
				}
			}
			if !errors.Is(res.ClockSkew, rotate.ErrClockSkew) {
				t.Errorf("warning %v does not wrap rotate.ErrClockSkew", res.ClockSkew)
			}
			if got := !res.ClockSkew.NotBefore.IsZero(); got != (tc.cert != "") {
				t.Errorf("warning describes the certificate: %v, want %v (the certificate is affected)", got, tc.cert != "")
			}
			if log := logs.String(); !strings.Contains(log, "clock skew") || !strings.Contains(log, named) {
				t.Errorf("the log does not name clock skew and %q:\n%s", named, log)
			}
			t.Log(msg)
			figures = append(figures, fmt.Sprintf("%+v: warned (offset %s)", tc.skew, res.ClockSkew.Offset))
		})
	}
}

// offsetClock is the real clock off by a fixed offset: a node whose clock is wrong.
type offsetClock time.Duration

func (c offsetClock) Now() time.Time                  { return time.Now().Add(time.Duration(c)) }
func (c offsetClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }
