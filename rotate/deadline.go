package rotate

import (
	"crypto/x509"
	"math/rand/v2"
	"time"
)

// The renewal window, as fractions of a certificate's lifetime after NotBefore: the
// deadline is drawn uniformly in [windowStart, windowEnd), as client-go's certificate
// manager does, so that certificates issued together are not renewed together.
const (
	windowStart = 0.7
	windowEnd   = 0.9
)

// renewalDeadline is when cert should be renewed: NotBefore plus a uniform draw in 70–90%
// of NotAfter−NotBefore. rand returns values in [0, 1); nil means math/rand/v2.Float64
// (the draw only spreads load, it need not be secret). A nil certificate, or one whose
// NotAfter is not after NotBefore, gives the zero time: renew at once.
func renewalDeadline(cert *x509.Certificate, rand func() float64) time.Time {
	if cert == nil || !cert.NotAfter.After(cert.NotBefore) {
		return time.Time{}
	}
	if rand == nil {
		rand = defaultRand
	}
	r := rand()
	if r < 0 || r >= 1 { // a broken source must not push renewal past the window
		r = 0
	}
	lifetime := cert.NotAfter.Sub(cert.NotBefore)
	// The start in integer arithmetic (70% exactly, no overflow); the spread in floats.
	start := lifetime/10*7 + lifetime%10*7/10
	spread := time.Duration(float64(lifetime) * (windowEnd - windowStart) * r)
	return cert.NotBefore.Add(start + spread)
}

func defaultRand() float64 { return rand.Float64() }
