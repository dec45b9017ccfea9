package queue

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/tools/cache"
)

// Each key is synced; an error and Retry come back; After comes back after its delay; the
// queue stops when the context ends.
func TestRun(t *testing.T) {
	tests := []struct {
		name      string
		results   []Result
		errs      []error
		wantCalls int
	}{
		{"done at once", []Result{{}}, []error{nil}, 1},
		{"error retries", []Result{{}, {}}, []error{errors.New("boom"), nil}, 2},
		{"Retry retries", []Result{{Retry: true}, {}}, []error{nil, nil}, 2},
		{"After comes back", []Result{{After: 20 * time.Millisecond}, {}}, []error{nil, nil}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			q := New("test")
			var mu sync.Mutex
			calls := 0
			done := make(chan struct{})
			syncKey := func(_ context.Context, key string) (Result, error) {
				mu.Lock()
				defer mu.Unlock()
				if key != "k" {
					t.Errorf("key %q", key)
				}
				i := calls
				calls++
				if i == tc.wantCalls-1 {
					close(done)
				}
				if i >= len(tc.results) {
					t.Errorf("synced %d times, want %d", calls, tc.wantCalls)
					return Result{}, nil
				}
				return tc.results[i], tc.errs[i]
			}
			q.Add("k")
			ran := make(chan error, 1)
			go func() { ran <- q.Run(ctx, 2, syncKey) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the key was not synced as often as expected")
			}
			time.Sleep(50 * time.Millisecond) // room for a wrong extra call
			cancel()
			if err := <-ran; err != nil {
				t.Fatalf("Run: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if calls != tc.wantCalls {
				t.Errorf("synced %d times, want %d", calls, tc.wantCalls)
			}
		})
	}
}

func TestRunCacheNeverSyncs(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	never := cache.InformerSynced(func() bool { return false })
	// The context ends while waiting: a normal stop.
	if err := New("test").Run(ctx, 1, nil, never); err != nil {
		t.Fatalf("Run after its context ended: %v, want nil", err)
	}
}
