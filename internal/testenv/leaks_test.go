package testenv

import (
	"context"
	"testing"

	"github.com/tlsbootstrap/tlsbootstrap/internal/queue"
	"go.uber.org/goleak"
)

// A goroutine started after the snapshot and still running fails the package; passing
// tests with nothing left over, or a package that already failed, keep their code.
func TestCheckLeaks(t *testing.T) {
	before := goleak.IgnoreCurrent()
	if code := checkLeaks(0, before); code != 0 {
		t.Fatalf("nothing left running: code %d, want 0", code)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { <-stop; close(done) }()
	if code := checkLeaks(0, before); code != 1 {
		t.Errorf("a goroutine left running: code %d, want 1", code)
	}
	if code := checkLeaks(3, before); code != 3 {
		t.Errorf("a failed run: code %d, want its own 3", code)
	}
	close(stop)
	<-done

	// A work queue of ours that is used and never run.
	q := queue.New("leak-test")
	q.Add("key")
	if code := checkLeaks(0, goleak.IgnoreCurrent()); code != 1 {
		t.Errorf("a work queue left running: code %d, want 1", code)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = q.Run(ctx, 1, func(context.Context, string) (queue.Result, error) { return queue.Result{}, nil })
	if code := checkLeaks(0, before); code != 0 {
		t.Errorf("after the queue is shut down: code %d, want 0", code)
	}
}
