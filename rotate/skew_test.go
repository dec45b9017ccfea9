package rotate_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"k8s.io/klog/v2"

	"k8s.io/client-go/rest"
	"k8s.io/klog/v2/textlogger"
	"k8s.io/utils/clock"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/internal/faults"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/rotate"
)

func TestCheckIssued(t *testing.T) {
	signed := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	cert := &x509.Certificate{NotBefore: signed.Add(-csr.Backdate), NotAfter: signed.Add(10 * time.Minute)}
	for _, tc := range []struct {
		skew       time.Duration
		wantOffset time.Duration // 0: no error
		want       string
	}{
		{skew: -10 * time.Minute, wantOffset: -10 * time.Minute, want: "about 10m0s behind the signer's (estimated from the certificate's NotBefore), more than the 5m0s certificates are backdated by; the certificate issued just now is not valid until 2030-01-01T11:55:00Z, 5m0s after this machine's time 2030-01-01T11:50:00Z"},
		{skew: -5*time.Minute - time.Second, wantOffset: -5*time.Minute - time.Second, want: "5m1s behind"},
		{skew: -5 * time.Minute},
		{skew: -2 * time.Minute},
		{skew: 2 * time.Minute},
		{skew: 9*time.Minute + 59*time.Second},
		{skew: 10 * time.Minute, wantOffset: 10 * time.Minute, want: "about 10m0s ahead of the signer's (estimated from the certificate's NotBefore), more than the 5m0s certificates are backdated by; the certificate issued just now expired at 2030-01-01T12:10:00Z, 0s before this machine's time 2030-01-01T12:10:00Z"},
	} {
		t.Run(tc.skew.String(), func(t *testing.T) {
			skew := rotate.CheckIssued(cert, signed.Add(tc.skew))
			if tc.wantOffset == 0 {
				if skew != nil {
					t.Fatalf("CheckIssued: %v, want nil within the validity period", skew)
				}
				return
			}
			var err error = skew
			if skew == nil || !errors.Is(err, rotate.ErrClockSkew) {
				t.Fatalf("CheckIssued: %v, want a *ClockSkewError wrapping ErrClockSkew", err)
			}
			if skew.Offset != tc.wantOffset || skew.Measured {
				t.Errorf("Offset = %s (measured %v), want %s estimated", skew.Offset, skew.Measured, tc.wantOffset)
			}
			for _, want := range []string{"clock skew", tc.want, "NTP"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
	if err := rotate.CheckIssued(nil, signed); err != nil {
		t.Errorf("CheckIssued(nil) = %v", err)
	}
}

// renewFirstAtOnce renews first at once (whatever the clock says) and later certificates
// at their normal deadline.
func renewFirstAtOnce(first *x509.Certificate) func(*x509.Certificate) time.Time {
	return func(c *x509.Certificate) time.Time {
		if c.Equal(first) {
			return time.Time{}
		}
		return rotate.NextDeadline(c, nil)
	}
}

// openNode opens a bootstrapped node's client certificate store and returns it, the pair
// in use and the node's client configuration.
func openNode(t *testing.T, certDir, kubeconfigPath string) (*rotate.FileStore, *tls.Certificate, *rest.Config) {
	t.Helper()
	store, err := rotate.NewStore(certDir, rotate.ClientPrefix, rotate.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	current, err := store.Current()
	if err != nil {
		t.Fatal(err)
	}
	server, err := kubeconfig.RESTConfig(kubeconfigPath)
	if err != nil {
		t.Fatal(err)
	}
	return store, current, server
}

// runManager makes and starts a Manager; it is stopped when the test ends (Stop may be
// called earlier too).
func runManager(t *testing.T, log klog.Logger, cfg rotate.ManagerOptions) (m *rotate.Manager, stop func()) {
	t.Helper()
	m, err := rotate.NewManager(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stop = rotate.Background(klog.NewContext(context.Background(), log), m)
	t.Cleanup(stop)
	return m, stop
}

// skewedClock is the real clock read offset away: timers still run in real time.
type skewedClock struct {
	clock.RealClock
	offset time.Duration
}

func (c skewedClock) Now() time.Time                  { return time.Now().Add(c.offset) }
func (c skewedClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// TestRotationWithClockSkew renews a node's certificate (15-minute lifetime from the
// package's signer) with the node's clock off the server's. Every renewal is issued and
// stored. 10m behind: the new certificate is not valid yet by the node's clock, a warning
// names clock skew and the offset, and the next deadline is 70–90% of the certificate's
// lifetime after its NotBefore, so no renewal follows at once. 10m ahead: every new
// certificate looks expired on arrival; the Manager reports the skew and waits for the
// backoff between renewals instead of requesting certificates in a tight loop. ±2m:
// covered by the backdate, no warning.
func TestRotationWithClockSkew(t *testing.T) {
	testenv.Need(t)
	const watch = 4 * time.Second
	backoff := rotate.Backoff{Initial: time.Second, Factor: 2, Steps: 5} // retries at 1s, 3s, 7s...
	var figures []string
	faults.Record(t, "node clock skew (rotation)", func() string { return strings.Join(figures, "; ") })

	for i, tc := range []struct {
		name    string
		skew    time.Duration
		warn    string // what the log and errors must name; "" for nothing at all
		expired bool   // new certificates look expired on arrival
	}{
		{name: "10m behind", skew: -10 * time.Minute, warn: "behind"},
		{name: "2m behind", skew: -2 * time.Minute},
		{name: "2m ahead", skew: 2 * time.Minute},
		{name: "10m ahead", skew: 10 * time.Minute, warn: "ahead of", expired: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nodeName := fmt.Sprintf("offset-rotate-%d", i) // not named "skew": the log is searched for it
			certDir, kubeconfigPath := bootstrapNode(t, nodeName, true)
			store, first, server := openNode(t, certDir, kubeconfigPath)
			_, bootstrapConfig := bootstrapToken(t)
			var logs testenv.SyncBuffer
			rotated := make(chan *x509.Certificate, 64)
			clk := skewedClock{offset: tc.skew}
			m, stop := runManager(t, textlogger.NewLogger(textlogger.NewConfig(textlogger.Output(&logs))), rotate.ManagerOptions{
				Store: store, NodeName: nodeName, Server: server, Bootstrap: bootstrapConfig,
				Clock: clk, Backoff: backoff, Deadline: renewFirstAtOnce(first.Leaf),
				OnRotated: func(_, new *x509.Certificate) { rotated <- new },
			})

			var renewed *x509.Certificate
			select {
			case renewed = <-rotated:
			case <-time.After(60 * time.Second):
				t.Fatalf("no renewal within 60s; status %+v", m.Status())
			}
			time.Sleep(watch)
			stop()
			st := m.Status()
			log := logs.String()
			figure := fmt.Sprintf("%+v: %d renewals in %s", tc.skew, st.Rotations, watch)

			switch {
			case tc.expired:
				// Attempts at 0s, 1s and 3s at most: a tight loop would make dozens.
				if st.Rotations < 1 || st.Rotations > 3 {
					t.Errorf("%d renewals within %s, want 1–3 (backoff, not a tight loop)", st.Rotations, watch)
				}
				var skew *rotate.ClockSkewError
				if !errors.As(st.LastError, &skew) {
					t.Fatalf("last error %v, want a *rotate.ClockSkewError", st.LastError)
				}
				if d := skew.Offset - tc.skew; d < -2*time.Second || d > 2*time.Second {
					t.Errorf("estimated offset %s, want %s ± 2s", skew.Offset, tc.skew)
				}
				for _, want := range []string{"clock skew", "expired at", tc.warn} {
					if !strings.Contains(st.LastError.Error(), want) || !strings.Contains(log, want) {
						t.Errorf("last error and log must contain %q: error %q", want, st.LastError)
					}
				}
				figure += fmt.Sprintf(", warned (offset %s)", skew.Offset)
			default:
				if st.LastError != nil || st.Rotations != 1 {
					t.Errorf("status %+v, want 1 renewal and no error", st)
				}
				lifetime := renewed.NotAfter.Sub(renewed.NotBefore)
				lo, hi := renewed.NotBefore.Add(lifetime*7/10), renewed.NotBefore.Add(lifetime*9/10)
				if st.NextDeadline.Before(lo) || st.NextDeadline.After(hi) {
					t.Errorf("next deadline %s outside 70–90%% of the certificate's lifetime (%s–%s)", st.NextDeadline, lo, hi)
				}
				if tc.warn == "" {
					if strings.Contains(strings.ToLower(log), "skew") {
						t.Errorf("the log mentions skew within the backdate:\n%s", log)
					}
					break
				}
				if clk.Now().After(renewed.NotBefore) {
					t.Fatalf("the renewed certificate (NotBefore %s) is valid by the node's clock %s: the case proves nothing", renewed.NotBefore, clk.Now())
				}
				for _, want := range []string{"clock skew", "is not valid until", tc.warn} {
					if !strings.Contains(log, want) {
						t.Errorf("the log does not contain %q:\n%s", want, log)
					}
				}
				// The offset named: estimated from NotBefore, which has whole seconds.
				match := regexp.MustCompile(`about (\S+) behind`).FindStringSubmatch(log)
				if match == nil {
					t.Fatalf("the log names no offset:\n%s", log)
				}
				offset, err := time.ParseDuration(match[1])
				if err != nil || (-offset-tc.skew).Abs() > 2*time.Second {
					t.Errorf("the log names an offset of %q behind, want %s ± 2s", match[1], -tc.skew)
				}
				figure += fmt.Sprintf(", warned (offset -%s)", match[1])
			}
			figures = append(figures, figure)
		})
	}
}
