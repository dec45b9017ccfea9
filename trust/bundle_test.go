package trust_test

import (
	"bytes"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"

	"github.com/tlsbootstrap/tlsbootstrap/sign"
	"github.com/tlsbootstrap/tlsbootstrap/trust"
)

// newCA is a self-signed CA valid from start (backdated 5m) for validity.
func newCA(t testing.TB, cn string, start time.Time, validity time.Duration) *sign.CA {
	t.Helper()
	ca, err := sign.NewSelfSignedCA(sign.SelfSignedOptions{CommonName: cn, Validity: validity, Clock: testingclock.NewFakePassiveClock(start)})
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func commonNames(t testing.TB, bundle []byte) []string {
	t.Helper()
	certs, err := trust.ParseBundle(bundle)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(certs))
	for i, c := range certs {
		names[i] = c.Subject.CommonName
	}
	return names
}

func TestMergeBundles(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	old := newCA(t, "old", t0, 30*24*time.Hour) // expires t0+30d
	cur := newCA(t, "new", t0.Add(20*24*time.Hour), 365*24*time.Hour)
	other := newCA(t, "other", t0, 365*24*time.Hour)
	both := append(append([]byte{}, cur.CertPEM()...), old.CertPEM()...)
	for _, tc := range []struct {
		name    string
		now     time.Time
		bundles [][]byte
		want    []string
		wantErr string
	}{
		{name: "first publication", now: t0, bundles: [][]byte{old.CertPEM()}, want: []string{"old"}},
		{name: "rotation keeps the old CA", now: t0.Add(21 * 24 * time.Hour), bundles: [][]byte{cur.CertPEM(), old.CertPEM()}, want: []string{"new", "old"}},
		{name: "merging again changes nothing", now: t0.Add(21 * 24 * time.Hour), bundles: [][]byte{cur.CertPEM(), both}, want: []string{"new", "old"}},
		{name: "old CA dropped once expired", now: t0.Add(31 * 24 * time.Hour), bundles: [][]byte{cur.CertPEM(), both}, want: []string{"new"}},
		{name: "other CAs kept", now: t0.Add(21 * 24 * time.Hour), bundles: [][]byte{cur.CertPEM(), append(other.CertPEM(), old.CertPEM()...)}, want: []string{"new", "other", "old"}},
		{name: "text between blocks ignored", now: t0, bundles: [][]byte{append([]byte("# old CA\n"), old.CertPEM()...)}, want: []string{"old"}},
		{name: "everything expired", now: t0.Add(400 * 24 * time.Hour), bundles: [][]byte{old.CertPEM()}, wantErr: "no unexpired certificate"},
		{name: "empty", now: t0, bundles: [][]byte{nil}, wantErr: "no unexpired certificate"},
		{name: "a key in the bundle", now: t0, bundles: [][]byte{cur.CertPEM(), []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")}, wantErr: `bundle 2: PEM block 1 is "PRIVATE KEY"`},
		{name: "broken certificate", now: t0, bundles: [][]byte{[]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")}, wantErr: "bundle 1: certificate 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := trust.MergeBundles(tc.now, tc.bundles...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("MergeBundles: %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if names := commonNames(t, got); strings.Join(names, ",") != strings.Join(tc.want, ",") {
				t.Errorf("bundle holds %v, want %v", names, tc.want)
			}
			again, err := trust.MergeBundles(tc.now, tc.bundles[0], got)
			if err != nil || !bytes.Equal(again, got) {
				t.Errorf("merging the result again gives other bytes (%v)", err)
			}
		})
	}
}

func TestNames(t *testing.T) {
	if got := trust.BundleName("example.com/workload-serving", "ca"); got != "example.com:workload-serving:ca" {
		t.Errorf("BundleName = %q", got)
	}
	if got := trust.ConfigMapName("example.com/workload-serving"); got != "example.com-workload-serving-ca.crt" {
		t.Errorf("ConfigMapName = %q", got)
	}
}

// swappableCA is a CAProvider whose CA the test replaces, as a rotation would.
type swappableCA struct{ ca atomic.Pointer[sign.CA] }

func (s *swappableCA) Current() (*sign.CA, error) { return s.ca.Load(), nil }
