package rotate

import (
	"crypto/x509"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// herdStats simulates n nodes whose certificates were all issued at the same instant,
// each renewing at renewalDeadline (with rnd) and, for generations > 1, renewing the
// renewed certificate again. It returns, for the last generation, the largest number of
// renewals inside any window of 1% of the lifetime (sliding), and the mean per such
// window over the 20% renewal window.
func herdStats(n, generations int, lifetime time.Duration, rnd func() float64) (peak int, mean float64) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	deadlines := make([]time.Time, n)
	for i := range deadlines {
		notBefore := start
		for range generations {
			notBefore = renewalDeadline(&x509.Certificate{NotBefore: notBefore, NotAfter: notBefore.Add(lifetime)}, rnd)
		}
		deadlines[i] = notBefore
	}
	slices.SortFunc(deadlines, func(a, b time.Time) int { return a.Compare(b) })
	window := lifetime / 100
	for lo, hi := 0, 0; hi < n; hi++ {
		for deadlines[hi].Sub(deadlines[lo]) >= window {
			lo++
		}
		peak = max(peak, hi-lo+1)
	}
	return peak, float64(n) / ((windowEnd - windowStart) * 100)
}

// TestHerdSpread: 10,000 nodes given certificates at the same instant renew spread over
// the 70–90% window; the busiest 1% of the lifetime holds at most 1.2× the mean. Without
// jitter (a constant draw) every renewal lands in the same instant, which the same
// measure catches.
func TestHerdSpread(t *testing.T) {
	const n = 10000
	lifetime := 8760 * time.Hour
	for _, tc := range []struct {
		name        string
		generations int
		rnd         func() float64
		maxRatio    float64
		minRatio    float64
	}{
		{"first renewal, jittered", 1, rand.New(rand.NewPCG(7, 11)).Float64, 1.2, 1},
		{"second renewal, jittered", 2, rand.New(rand.NewPCG(7, 11)).Float64, 1.2, 0},
		{"no jitter (constant draw)", 1, func() float64 { return 0.5 }, 20, 20},
	} {
		peak, mean := herdStats(n, tc.generations, lifetime, tc.rnd)
		ratio := float64(peak) / mean
		t.Logf("%s: N=%d, peak %d renewals in a 1%% window of the lifetime; mean over the 70-90%% window %.0f; peak/mean %.3f", tc.name, n, peak, mean, ratio)
		if ratio > tc.maxRatio || ratio < tc.minRatio {
			t.Errorf("%s: peak/mean %.3f, want within [%.1f, %.1f]", tc.name, ratio, tc.minRatio, tc.maxRatio)
		}
	}
}

// BenchmarkHerd reports the peak/mean renewal rate of 10,000 simultaneous certificates
// for a fresh random source each iteration.
func BenchmarkHerd(b *testing.B) {
	worst := 0.0
	for i := 0; b.Loop(); i++ {
		peak, mean := herdStats(10000, 1, 8760*time.Hour, rand.New(rand.NewPCG(uint64(i), 1)).Float64)
		worst = max(worst, float64(peak)/mean)
	}
	b.ReportMetric(worst, "worst-peak/mean")
}

func ExampleNextDeadline() {
	notBefore := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	cert := &x509.Certificate{NotBefore: notBefore, NotAfter: notBefore.Add(100 * time.Hour)}
	// A draw of 0.5 lands in the middle of the 70–90% window.
	fmt.Println(renewalDeadline(cert, func() float64 { return 0.5 }).Sub(notBefore))
	// Output: 80h0m0s
}
