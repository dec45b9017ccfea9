package conformance

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tlsbootstrap/tlsbootstrap/internal/deadline"
)

// caseT is a case's view of the run: the admin client, the configuration, a cleanup
// registry and bounded waits. Fatalf ends the case at once (like testing.T, it must be
// called from the case's goroutine).
type caseT struct {
	// Client is the admin clientset.
	Client kubernetes.Interface
	// RESTConfig is the admin's; copy it before changing it.
	RESTConfig *rest.Config
	// Options is the run's configuration, with defaults applied.
	Options Options

	prefix string // unique per case run, a valid DNS label prefix

	mu       sync.Mutex
	errs     []string
	skipped  string
	cleanups []func(context.Context) error
	counter  int
}

// Errorf records a failure and lets the case go on. Say what was expected and what was
// seen.
func (t *caseT) Errorf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.errs = append(t.errs, fmt.Sprintf(format, args...))
}

// Fatalf records a failure and ends the case.
func (t *caseT) fatalf(format string, args ...any) {
	t.Errorf(format, args...)
	runtime.Goexit()
}

// Skipf ends the case as SKIPPED (a prerequisite the configuration lacks).
func (t *caseT) skipf(format string, args ...any) {
	t.mu.Lock()
	t.skipped = fmt.Sprintf(format, args...)
	t.mu.Unlock()
	runtime.Goexit()
}

// Cleanup registers f to run after the case, last registered first, with a fresh
// bounded context even when the case timed out.
func (t *caseT) Cleanup(f func(ctx context.Context) error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}

// UniqueName returns a DNS-label-safe name unique in this run, starting with the case's
// prefix and hint.
func (t *caseT) uniqueName(hint string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.counter++
	return fmt.Sprintf("%s-%s-%d", t.prefix, hint, t.counter)
}

// Eventually polls cond every 250ms until it returns true, fails with an error, or ctx
// (the case's bounded context) ends; then the case fails with "expected <what>; last
// seen: <what cond last reported>".
func (t *caseT) Eventually(ctx context.Context, expected string, cond func(ctx context.Context) (ok bool, seen string, err error)) {
	var last string
	err := wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		ok, seen, err := cond(ctx)
		// A poll cut short by the deadline says less than the one before (client-go's rate
		// limiter refuses a request at the deadline with an error that does not wrap
		// context.DeadlineExceeded; internal/deadline tells by the clock instead).
		cutShort := deadline.Passed(ctx) || errors.Is(err, context.DeadlineExceeded)
		if !cutShort || last == "" {
			last = seen
		}
		return ok, err
	})
	if err != nil {
		if last == "" {
			last = err.Error()
		}
		t.fatalf("expected %s; last seen: %s", expected, last)
	}
}

// Consistently checks cond every 250ms for window (or until ctx ends): it must keep
// returning true; the first false fails the case with what was expected and seen.
func (t *caseT) consistently(ctx context.Context, window time.Duration, expected string, cond func(ctx context.Context) (ok bool, seen string, err error)) {
	deadline := time.Now().Add(window)
	for {
		ok, seen, err := cond(ctx)
		if err != nil {
			t.fatalf("expected %s; checking it failed: %v", expected, err)
		}
		if !ok {
			t.fatalf("expected %s for %s; saw %s", expected, window, seen)
		}
		if time.Now().After(deadline) {
			return
		}
		select {
		case <-ctx.Done():
			t.fatalf("expected %s for %s; the case ran out of time", expected, window)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (t *caseT) runCleanups(timeout time.Duration) {
	t.mu.Lock()
	cleanups := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for i := len(cleanups) - 1; i >= 0; i-- {
		if err := cleanups[i](ctx); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
}

func (t *caseT) failures() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.errs, "; ")
}
