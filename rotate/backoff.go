package rotate

import (
	"math"
	"time"
)

// Backoff spaces out retries after a failed renewal. Delay n (counting from 0) is
// Initial×Factor^min(n, Steps−1), stretched by up to Jitter (a fraction); after Steps
// failures the delay stays at its last value. The zero value means defaultBackoff.
type Backoff struct {
	Initial time.Duration
	Factor  float64
	Jitter  float64
	Steps   int
}

// defaultBackoff is client-go's certificate manager's: 2s doubling for 5 steps with 10%
// jitter (2s, 4s, 8s, 16s, 32s), then every 32s.
var defaultBackoff = Backoff{Initial: 2 * time.Second, Factor: 2, Jitter: 0.1, Steps: 5}

// defaultRequestTimeout bounds each wait for a renewal CSR's certificate, as client-go's
// certificateWaitTimeout. A CSR nobody approves fails the attempt after it, and the
// attempt is retried after the backoff with a new key.
const defaultRequestTimeout = 15 * time.Minute

func (b Backoff) orDefault() Backoff {
	if b.Initial <= 0 {
		return defaultBackoff
	}
	if b.Factor < 1 {
		b.Factor = 1
	}
	if b.Steps < 1 {
		b.Steps = 1
	}
	if b.Jitter < 0 {
		b.Jitter = 0
	}
	return b
}

// Delay is the wait after failure n (0 for the first), with rand in [0, 1) choosing the
// jitter.
func (b Backoff) delayAfter(n int, rand func() float64) time.Duration {
	b = b.orDefault()
	if n < 0 {
		n = 0
	}
	step := min(n, b.Steps-1)
	d := float64(b.Initial) * math.Pow(b.Factor, float64(step))
	if b.Jitter > 0 && rand != nil {
		d += d * b.Jitter * rand()
	}
	if d > float64(math.MaxInt64) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(d)
}
