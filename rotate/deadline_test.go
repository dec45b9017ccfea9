package rotate

import (
	"crypto/x509"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestNextDeadlineDistribution(t *testing.T) {
	notBefore := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		lifetime time.Duration
	}{
		{"ten minutes", 10 * time.Minute},
		{"one day", 24 * time.Hour},
		{"one year", 8760 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cert := &x509.Certificate{NotBefore: notBefore, NotAfter: notBefore.Add(tc.lifetime)}
			src := rand.New(rand.NewPCG(1, 2))
			const draws, buckets = 20000, 20
			var counts [buckets]int
			lo, hi := 1.0, 0.0
			for range draws {
				frac := float64(renewalDeadline(cert, src.Float64).Sub(notBefore)) / float64(tc.lifetime)
				if frac < windowStart || frac > windowEnd {
					t.Fatalf("deadline at %.4f of the lifetime, outside [%.1f, %.1f]", frac, windowStart, windowEnd)
				}
				lo, hi = math.Min(lo, frac), math.Max(hi, frac)
				b := int((frac - windowStart) / (windowEnd - windowStart) * buckets)
				counts[min(b, buckets-1)]++
			}
			if lo > windowStart+0.005 || hi < windowEnd-0.005 {
				t.Errorf("draws span [%.4f, %.4f], want them to cover [0.7, 0.9]", lo, hi)
			}
			// Uniform: each of 20 buckets expects 1000 draws; 5 standard deviations is ±155.
			for i, c := range counts {
				if c < 845 || c > 1155 {
					t.Errorf("bucket %d holds %d of %d draws, want about %d (not uniform)", i, c, draws, draws/buckets)
				}
			}
		})
	}
}

func TestNextDeadlineEdges(t *testing.T) {
	nb := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	cert := &x509.Certificate{NotBefore: nb, NotAfter: nb.Add(100 * time.Hour)}
	for _, tc := range []struct {
		name string
		cert *x509.Certificate
		rand func() float64
		want time.Time
	}{
		{"no certificate: now", nil, nil, time.Time{}},
		{"empty lifetime: now", &x509.Certificate{NotBefore: nb, NotAfter: nb}, nil, time.Time{}},
		{"rand 0: 70%", cert, func() float64 { return 0 }, nb.Add(70 * time.Hour)},
		{"rand 0.5: 80%", cert, func() float64 { return 0.5 }, nb.Add(80 * time.Hour)},
		{"broken rand 7: 70%", cert, func() float64 { return 7 }, nb.Add(70 * time.Hour)},
		{"broken rand -1: 70%", cert, func() float64 { return -1 }, nb.Add(70 * time.Hour)},
	} {
		if got := renewalDeadline(tc.cert, tc.rand); !got.Equal(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := renewalDeadline(cert, nil); got.Before(nb.Add(70*time.Hour)) || got.After(nb.Add(90*time.Hour)) {
		t.Errorf("default source: %v outside the window", got)
	}
}

func TestBackoffDelays(t *testing.T) {
	noJitter := func() float64 { return 0 }
	fullJitter := func() float64 { return 0.999 }
	for _, tc := range []struct {
		name string
		b    Backoff
		rand func() float64
		want []time.Duration
	}{
		{"default", Backoff{}, noJitter, []time.Duration{2e9, 4e9, 8e9, 16e9, 32e9, 32e9, 32e9}},
		{"default with jitter stays within 10%", Backoff{}, fullJitter,
			[]time.Duration{2199800000, 4399600000, 8799200000, 17598400000, 35196800000, 35196800000}},
		{"configured", Backoff{Initial: time.Second, Factor: 3, Steps: 3}, noJitter, []time.Duration{1e9, 3e9, 9e9, 9e9}},
		{"factor under 1 means constant", Backoff{Initial: time.Second, Factor: 0.5, Steps: 4}, noJitter, []time.Duration{1e9, 1e9, 1e9}},
	} {
		for n, want := range tc.want {
			if got := tc.b.delayAfter(n, tc.rand); got != want {
				t.Errorf("%s: delay %d = %v, want %v", tc.name, n, got, want)
			}
		}
	}
}
