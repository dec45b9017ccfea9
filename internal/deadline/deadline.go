// Package deadline tells whether a request failed because its context's time was up.
//
// client-go's rate limiter refuses a request whose wait would pass the context's
// deadline, with an error that does not wrap context.DeadlineExceeded, and it can do so a
// moment before ctx.Err is set. A retry loop that records such an error as "the last
// error" reports the deadline instead of what the server said; Passed lets it tell.
package deadline

import (
	"context"
	"time"
)

// Passed reports whether ctx is done or its deadline has passed.
func Passed(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// Cause is context.Cause(ctx), or context.DeadlineExceeded when the deadline has passed
// but ctx is not done yet: the error a caller of Passed reports.
func Cause(ctx context.Context) error {
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if Passed(ctx) {
		return context.DeadlineExceeded
	}
	return nil
}
