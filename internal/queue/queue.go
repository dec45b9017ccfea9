// Package queue is the one worker loop of the project's controllers: a rate-limited work
// queue of keys, drained by workers that call a sync function, as client-go's sample
// controller and kube-controller-manager's controllers do. The approver, the signer, the
// token cleaner and the bootstrap signer all run through it.
package queue

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

// Result is what one sync asks of the queue besides an error (which always means a
// rate-limited retry).
type Result struct {
	// Retry looks at the key again after the rate limiter's back-off.
	Retry bool
	// After, when positive, looks at the key again after this long (a deadline the key's
	// object holds, such as a token's expiration); with Retry, whichever comes first.
	After time.Duration
}

// SyncFunc brings the object behind key to its wanted state.
type SyncFunc func(ctx context.Context, key string) (Result, error)

// Queue is a named, rate-limited queue of keys.
type Queue struct {
	name     string
	once     sync.Once
	stopOnce sync.Once
	wq       workqueue.TypedRateLimitingInterface[string]
}

// New returns a queue paced by the default rate limiter: per key, exponential back-off
// from 200ms to 1000s; overall 10 retries per second with bursts of 100
// (kube-controller-manager's certificate controllers).
func New(name string) *Queue {
	return &Queue{name: name}
}

// q is the work queue, made at the first Add or Run: making it starts a goroutine, which
// a controller that is built but never run must not leave behind.
func (q *Queue) q() workqueue.TypedRateLimitingInterface[string] {
	q.once.Do(func() {
		live.Add(1)
		limiter := workqueue.NewTypedMaxOfRateLimiter(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](200*time.Millisecond, 1000*time.Second),
			&workqueue.TypedBucketRateLimiter[string]{Limiter: rate.NewLimiter(rate.Limit(10), 100)},
		)
		q.wq = workqueue.NewTypedRateLimitingQueueWithConfig(limiter, workqueue.TypedRateLimitingQueueConfig[string]{Name: q.name})
	})
	return q.wq
}

// Add queues key (once, however often it is added before a worker takes it).
func (q *Queue) Add(key string) { q.q().Add(key) }

// Run waits for the caches in synced, then runs workers that call sync for each key until
// ctx ends, and shuts the queue down. It returns nil after ctx ends, an error when a cache
// never syncs. Call it once.
func (q *Queue) Run(ctx context.Context, workers int, syncKey SyncFunc, synced ...cache.InformerSynced) error {
	defer q.shutDown()
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("%s: informer caches did not sync", q.name)
	}
	log := klog.FromContext(ctx)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			wait.UntilWithContext(ctx, func(ctx context.Context) {
				for q.next(ctx, log, syncKey) {
				}
			}, time.Second)
		})
	}
	<-ctx.Done()
	q.shutDown()
	wg.Wait()
	return nil
}

// live counts the work queues made and not yet shut down in this process: tests check
// that it is back to zero (Live), which tells a queue of ours left running from
// client-go's own long-lived queues.
var live atomic.Int64

// Live is how many queues were made (by Add or Run) and not shut down.
func Live() int64 { return live.Load() }

func (q *Queue) shutDown() {
	q.q().ShutDown()
	q.stopOnce.Do(func() { live.Add(-1) })
}

func (q *Queue) next(ctx context.Context, log klog.Logger, syncKey SyncFunc) bool {
	key, quit := q.q().Get()
	if quit {
		return false
	}
	defer q.q().Done(key)
	res, err := syncKey(ctx, key)
	switch {
	case err != nil && ctx.Err() != nil:
		// Shutting down: the failed write is worth neither a log line nor a retry.
	case err != nil:
		if apierrors.IsConflict(err) {
			log.V(4).Info("Object changed meanwhile; retrying", "queue", q.name, "key", key)
		} else {
			log.Error(err, "Sync failed; retrying", "queue", q.name, "key", key)
		}
		q.q().AddRateLimited(key)
	case res.Retry:
		q.q().AddRateLimited(key)
		if res.After > 0 {
			q.q().AddAfter(key, res.After)
		}
	case res.After > 0:
		q.q().Forget(key)
		q.q().AddAfter(key, res.After)
	default:
		q.q().Forget(key)
	}
	return true
}
