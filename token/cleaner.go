package token

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/tlsbootstrap/tlsbootstrap/internal/queue"
)

// SecretFieldSelector selects Secrets of the bootstrap token type (a field selector for
// list and watch), as the upstream cleaner and bootstrap signer do.
const SecretFieldSelector = "type=" + string(SecretType)

// NewSecretInformers returns an informer factory for the bootstrap token Secrets in
// Namespace and nothing else, re-delivering them every opts.ResyncPeriod: what the token
// cleaner and the cluster-info signer watch.
func NewSecretInformers(client kubernetes.Interface, opts WatchOptions) informers.SharedInformerFactory {
	return informers.NewSharedInformerFactoryWithOptions(client, opts.Complete().ResyncPeriod,
		informers.WithNamespace(Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = SecretFieldSelector }))
}

// cleanExpired deletes every bootstrap token Secret in Namespace that is expired at now
// (past or unparseable expiration), each with a UID precondition so a Secret re-created
// under the same name is left alone. Tokens without an expiration are kept. It returns the
// names of the Secrets it deleted.
func cleanExpired(ctx context.Context, client kubernetes.Interface, now time.Time) ([]string, error) {
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

// WatchOptions configure the controllers that watch bootstrap token Secrets: the token
// cleaner (NewCleaner) and the cluster-info signer (discovery.NewClusterInfoSigner). The
// zero value is usable.
type WatchOptions struct {
	// ResyncPeriod makes the informers re-deliver every object. Default 10 minutes.
	ResyncPeriod time.Duration
	// Clock tells the time tokens expire against. Default the real clock.
	Clock clock.PassiveClock
}

// Complete returns o with the defaults filled in.
func (o WatchOptions) Complete() WatchOptions {
	if o.ResyncPeriod <= 0 {
		o.ResyncPeriod = 10 * time.Minute
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	return o
}

// Cleaner is a controller that deletes bootstrap token Secrets when they expire, like the
// controller-manager's tokencleaner: it watches token Secrets in Namespace, deletes the
// expired ones (UID precondition) and looks again at the others when they are due.
type Cleaner struct {
	client kubernetes.Interface
	opts   WatchOptions
}

// NewCleaner returns a Cleaner using client, which needs list, watch and delete on Secrets
// in Namespace.
func NewCleaner(client kubernetes.Interface, opts WatchOptions) *Cleaner {
	return &Cleaner{client: client, opts: opts.Complete()}
}

// Run cleans until ctx is done. It returns an error only when it cannot start (the
// informer cache never synced).
func (c *Cleaner) Run(ctx context.Context) error {
	ctx = klog.NewContext(ctx, klog.FromContext(ctx).WithName("token-cleaner"))
	factory := NewSecretInformers(c.client, c.opts)
	secrets := factory.Core().V1().Secrets()
	q := queue.New("tokencleaner")
	enqueue := func(obj any) {
		if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
			q.Add(key)
		}
	}
	if _, err := secrets.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
	}); err != nil {
		return fmt.Errorf("token cleaner: adding event handler: %w", err)
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	lister := secrets.Lister().Secrets(Namespace)
	return q.Run(ctx, 1, func(ctx context.Context, key string) (queue.Result, error) {
		return c.sync(ctx, lister, key)
	}, secrets.Informer().HasSynced)
}

// sync deletes the Secret behind key when it has expired, or asks to look again when it
// will.
func (c *Cleaner) sync(ctx context.Context, secrets corelisters.SecretNamespaceLister, key string) (queue.Result, error) {
	_, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return queue.Result{}, nil
	}
	secret, err := secrets.Get(name)
	if err != nil {
		return queue.Result{}, nil // deleted meanwhile
	}
	left, expired := expiry(secret, c.opts.Clock.Now())
	switch {
	case expired:
		gone, err := deleteExpired(ctx, c.client, secret)
		if err != nil {
			return queue.Result{}, err
		}
		if gone {
			klog.FromContext(ctx).V(2).Info("Deleted expired bootstrap token", "secret", klog.KObj(secret))
		}
		return queue.Result{}, nil
	case left > 0:
		return queue.Result{After: left}, nil
	}
	return queue.Result{}, nil // never expires
}
