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

// tb is the part of testing.TB the cases use. Under go test (RunTests) it is the case's
// *testing.T; Run, outside a test, supplies a recorder of its own.
type tb interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Cleanup(func())
}

// caseT is a case's view of the run: its tb, the admin client, the configuration and
// bounded waits. It keeps every message it passes to tb, because the report needs them
// and testing.T does not give them back. Fatalf and Skipf end the case at once and, as
// with testing.T, must be called from the case's goroutine.
type caseT struct {
	tb
	// Client is the admin clientset.
	Client kubernetes.Interface
	// RESTConfig is the admin's; copy it before changing it.
	RESTConfig *rest.Config
	// Options is the run's configuration, with defaults applied.
	Options Options
	// Env is what the implementation was told (the serving address plan).
	Env Environment

	prefix string // unique per case run, a valid DNS label prefix

	mu           sync.Mutex
	errs         []string
	skipped      string
	notSupported string
	observed     []string
	counter      int
}

// Errorf records a failure and lets the case go on. Say what was expected and what was
// seen.
func (t *caseT) Errorf(format string, args ...any) {
	t.tb.Helper()
	t.tb.Errorf("%s", t.failure(format, args...))
}

// Fatalf records a failure and ends the case.
func (t *caseT) Fatalf(format string, args ...any) {
	t.tb.Helper()
	t.tb.Fatalf("%s", t.failure(format, args...))
}

// failure keeps a failure's message for the report and returns it.
func (t *caseT) failure(format string, args ...any) string {
	msg := fmt.Sprintf(format, args...)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.errs = append(t.errs, msg)
	return msg
}

// Skipf ends the case as SKIPPED: the configuration lacks a prerequisite.
func (t *caseT) Skipf(format string, args ...any) {
	t.skip(&t.skipped, Skipped, fmt.Sprintf(format, args...))
}

// notSupportedf ends the case as NOT_SUPPORTED: the implementation lacks a feature the
// case needs. Under go test it is a skip.
func (t *caseT) notSupportedf(format string, args ...any) {
	t.skip(&t.notSupported, NotSupported, fmt.Sprintf(format, args...))
}

// skip keeps msg in *into for the report and ends the case through tb.Skipf.
func (t *caseT) skip(into *string, as Result, msg string) {
	t.mu.Lock()
	*into = msg
	t.mu.Unlock()
	t.tb.Skipf("%s: %s", as, msg)
}

// noteObserved notes what the implementation did where a case allows more than one answer
// (Denied, or left Pending), for the report.
func (t *caseT) noteObserved(what string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.observed = append(t.observed, what)
}

// cleanup registers f to run after the case, last registered first, with a fresh
// bounded context even when the case timed out; an error fails the case.
func (t *caseT) cleanup(f func(ctx context.Context) error) {
	t.tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		if err := f(ctx); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
}

// cleanupTimeout bounds each cleanup of a case.
const cleanupTimeout = 30 * time.Second

// result is the case's outcome once it and its cleanups have ended.
func (t *caseT) result(c testCase, took time.Duration) CaseResult {
	t.mu.Lock()
	defer t.mu.Unlock()
	res := CaseResult{Name: c.Name, Profile: c.Profile, Core: c.Core, Features: c.Features,
		Duration: took, Observed: strings.Join(t.observed, "; ")}
	switch {
	case t.notSupported != "":
		res.Result, res.Message, res.Duration = NotSupported, t.notSupported, 0
	case len(t.errs) > 0:
		res.Result, res.Message = Failed, strings.Join(t.errs, "; ")
	case t.skipped != "":
		res.Result, res.Message = Skipped, t.skipped
	default:
		res.Result = Succeeded
	}
	return res
}

// uniqueName returns a DNS-label-safe name unique in this run, starting with the case's
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
	t.tb.Helper()
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
		t.Fatalf("expected %s; last seen: %s", expected, last)
	}
}

// consistently checks cond every 250ms for window (or until ctx ends): it must keep
// returning true; the first false fails the case with what was expected and seen.
func (t *caseT) consistently(ctx context.Context, window time.Duration, expected string, cond func(ctx context.Context) (ok bool, seen string, err error)) {
	t.tb.Helper()
	end := time.Now().Add(window)
	for {
		ok, seen, err := cond(ctx)
		if err != nil {
			t.Fatalf("expected %s; checking it failed: %v", expected, err)
		}
		if !ok {
			t.Fatalf("expected %s for %s; saw %s", expected, window, seen)
		}
		if time.Now().After(end) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("expected %s for %s; the case ran out of time", expected, window)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// recorder is the tb of a case that Run executes outside go test: caseT keeps the
// messages, so the recorder only ends the case's goroutine and keeps the cleanups.
type recorder struct {
	mu       sync.Mutex
	cleanups []func()
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) {}
func (r *recorder) Fatalf(string, ...any) { runtime.Goexit() }
func (r *recorder) Skipf(string, ...any)  { runtime.Goexit() }

func (r *recorder) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

// runCleanups runs the cleanups last registered first, as testing does.
func (r *recorder) runCleanups() {
	r.mu.Lock()
	cleanups := r.cleanups
	r.cleanups = nil
	r.mu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
}
