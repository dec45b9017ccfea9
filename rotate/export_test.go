package rotate

import (
	"context"
	"time"
)

// Names the external tests use; unexported for importers.
var ErrNoAddresses = errNoAddresses

// Background runs m until the returned stop is called; stop waits for Run to return and
// may be called more than once.
func Background(ctx context.Context, m *Manager) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = m.Run(ctx)
	}()
	return func() { cancel(); <-done }
}

// BackoffDelay is b's wait before attempt n (no jitter), for the tests.
func BackoffDelay(b Backoff, n int) time.Duration { return b.delayAfter(n, nil) }

var NextDeadline = renewalDeadline
