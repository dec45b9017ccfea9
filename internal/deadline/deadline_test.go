package deadline

import (
	"context"
	"testing"
	"time"
)

func TestPassed(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	// A deadline in the past whose ctx.Done may or may not be closed yet.
	past, cancelPast := context.WithDeadline(context.Background(), time.Now().Add(-time.Millisecond))
	defer cancelPast()
	future, cancelFuture := context.WithTimeout(context.Background(), time.Hour)
	defer cancelFuture()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want bool
	}{
		{"no deadline", context.Background(), false},
		{"cancelled", cancelled, true},
		{"deadline passed", past, true},
		{"deadline ahead", future, false},
		{"deadline ahead, parent cancelled", func() context.Context {
			c, cf := context.WithTimeout(cancelled, time.Hour)
			t.Cleanup(cf)
			return c
		}(), true},
	} {
		if got := Passed(tc.ctx); got != tc.want {
			t.Errorf("%s: Passed = %v, want %v", tc.name, got, tc.want)
		}
		if cause := Cause(tc.ctx); (cause != nil) != tc.want {
			t.Errorf("%s: Cause = %v, want an error: %v", tc.name, cause, tc.want)
		}
	}
}
