package token

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

// SecretFieldSelector selects Secrets of the bootstrap token type (a field selector for
// list and watch), as the upstream cleaner and bootstrap signer do.
var SecretFieldSelector = fields.OneTermEqualSelector("type", string(SecretType)).String()

// CleanExpired deletes every bootstrap token Secret in Namespace that is expired at now
// (past or unparseable expiration), each with a UID precondition so a Secret re-created
// under the same name is left alone. Tokens without an expiration are kept. It returns the
// names of the Secrets it deleted.
func CleanExpired(ctx context.Context, client kubernetes.Interface, now time.Time) ([]string, error) {
	list, err := client.CoreV1().Secrets(Namespace).List(ctx, metav1.ListOptions{FieldSelector: SecretFieldSelector})
	if err != nil {
		return nil, fmt.Errorf("listing bootstrap tokens in %s: %w", Namespace, err)
	}
	var deleted []string
	for i := range list.Items {
		secret := &list.Items[i]
		if !Expired(secret, now) {
			continue
		}
		gone, err := deleteExpired(ctx, client, secret)
		if err != nil {
			return deleted, err
		}
		if gone {
			deleted = append(deleted, secret.Name)
		}
	}
	return deleted, nil
}

// deleteExpired deletes secret if it still has the same UID. NotFound and Conflict (the
// precondition failed) mean someone else got there first: not an error, not ours.
func deleteExpired(ctx context.Context, client kubernetes.Interface, secret *corev1.Secret) (bool, error) {
	opts := metav1.DeleteOptions{}
	if secret.UID != "" {
		uid := secret.UID
		opts.Preconditions = &metav1.Preconditions{UID: &uid}
	}
	err := client.CoreV1().Secrets(secret.Namespace).Delete(ctx, secret.Name, opts)
	switch {
	case err == nil:
		return true, nil
	case apierrors.IsNotFound(err), apierrors.IsConflict(err):
		return false, nil
	default:
		return false, fmt.Errorf("deleting expired bootstrap token secret %s/%s: %w", secret.Namespace, secret.Name, err)
	}
}

// CleanerOptions configure a Cleaner. The zero value is usable.
type CleanerOptions struct {
	// ResyncPeriod makes the informer re-deliver every token Secret. Default 10 minutes.
	ResyncPeriod time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Cleaner is a controller that deletes bootstrap token Secrets when they expire, like the
// controller-manager's tokencleaner: it watches token Secrets in Namespace, deletes the
// expired ones (UID precondition) and looks again at the others when they are due.
type Cleaner struct {
	client kubernetes.Interface
	opts   CleanerOptions
}

// NewCleaner returns a Cleaner using client.
func NewCleaner(client kubernetes.Interface, opts CleanerOptions) *Cleaner {
	if opts.ResyncPeriod <= 0 {
		opts.ResyncPeriod = 10 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Cleaner{client: client, opts: opts}
}

// Run cleans until ctx is done. It returns an error only when it cannot start (the
// informer cache never synced).
func (c *Cleaner) Run(ctx context.Context) error {
	logger := klog.FromContext(ctx).WithName("token-cleaner")
	factory := informers.NewSharedInformerFactoryWithOptions(c.client, c.opts.ResyncPeriod,
		informers.WithNamespace(Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = SecretFieldSelector }))
	informer := factory.Core().V1().Secrets()
	queue := workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "token-cleaner"})
	defer queue.ShutDown()

	enqueue := func(obj any) {
		if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
			queue.Add(key)
		}
	}
	if _, err := informer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
	}); err != nil {
		return fmt.Errorf("token cleaner: adding event handler: %w", err)
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), informer.Informer().HasSynced) {
		return fmt.Errorf("token cleaner: secret cache did not sync: %w", context.Cause(ctx))
	}
	lister := informer.Lister()

	go func() {
		<-ctx.Done()
		queue.ShutDown()
	}()
	for {
		key, quit := queue.Get()
		if quit {
			return nil
		}
		c.process(ctx, logger, lister.Secrets(Namespace), queue, key)
		queue.Done(key)
	}
}

func (c *Cleaner) process(ctx context.Context, logger klog.Logger, secrets interface {
	Get(name string) (*corev1.Secret, error)
}, queue workqueue.TypedRateLimitingInterface[string], key string) {
	_, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		queue.Forget(key)
		return
	}
	secret, err := secrets.Get(name)
	if err != nil {
		queue.Forget(key) // deleted meanwhile
		return
	}
	left, expired := expiry(secret, c.opts.Now())
	switch {
	case expired:
		gone, err := deleteExpired(ctx, c.client, secret)
		if err != nil {
			logger.Error(err, "Deleting expired bootstrap token", "secret", klog.KObj(secret))
			queue.AddRateLimited(key)
			return
		}
		if gone {
			logger.V(2).Info("Deleted expired bootstrap token", "secret", klog.KObj(secret))
		}
		queue.Forget(key)
	case left > 0:
		queue.Forget(key)
		queue.AddAfter(key, left)
	default:
		queue.Forget(key) // never expires
	}
}
