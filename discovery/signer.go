package discovery

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/tlsbootstrap/tlsbootstrap/internal/queue"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// ClusterInfoSigner is the bootstrap signer controller (kube-controller-manager's
// bootstrapsigner): it watches the token Secrets in kube-system and kube-public/cluster-info,
// keeps one SignatureKey per valid token with the signing usage and removes the others,
// including those of tokens that expire while it runs.
type ClusterInfoSigner struct {
	client kubernetes.Interface
	opts   token.WatchOptions
}

// NewClusterInfoSigner returns a ClusterInfoSigner writing through client, which needs
// list/watch on Secrets in kube-system and get/list/watch/update on ConfigMaps in
// kube-public.
func NewClusterInfoSigner(client kubernetes.Interface, opts token.WatchOptions) *ClusterInfoSigner {
	return &ClusterInfoSigner{client: client, opts: opts.Complete()}
}

// signKey is the only queue key: every event leads to one re-computation of cluster-info.
const signKey = Namespace + "/" + ConfigMapName

// Run signs until ctx is done. It returns an error only when it cannot start (an informer
// cache never synced).
func (s *ClusterInfoSigner) Run(ctx context.Context) error {
	ctx = klog.NewContext(ctx, klog.FromContext(ctx).WithName("bootstrap-signer"))
	secretFactory := token.NewSecretInformers(s.client, s.opts)
	cmFactory := informers.NewSharedInformerFactoryWithOptions(s.client, s.opts.ResyncPeriod,
		informers.WithNamespace(Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", ConfigMapName).String()
		}))
	secrets := secretFactory.Core().V1().Secrets()
	configMaps := cmFactory.Core().V1().ConfigMaps()

	q := queue.New("bootstrapsigner")
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { q.Add(signKey) },
		UpdateFunc: func(_, _ any) { q.Add(signKey) },
		DeleteFunc: func(any) { q.Add(signKey) },
	}
	for _, inf := range []cache.SharedIndexInformer{secrets.Informer(), configMaps.Informer()} {
		if _, err := inf.AddEventHandler(handler); err != nil {
			return fmt.Errorf("bootstrap signer: adding event handler: %w", err)
		}
	}
	secretFactory.Start(ctx.Done())
	cmFactory.Start(ctx.Done())
	defer secretFactory.Shutdown()
	defer cmFactory.Shutdown()
	secretLister, cmLister := secrets.Lister().Secrets(token.Namespace), configMaps.Lister().ConfigMaps(Namespace)
	return q.Run(ctx, 1, func(ctx context.Context, _ string) (queue.Result, error) {
		next, err := s.sync(ctx, klog.FromContext(ctx), secretLister, cmLister)
		if err != nil || next.IsZero() {
			return queue.Result{}, err
		}
		// Drop the signature of the first token to expire without waiting for an event.
		return queue.Result{After: max(next.Sub(s.opts.Clock.Now()), time.Nanosecond)}, nil
	}, secrets.Informer().HasSynced, configMaps.Informer().HasSynced)
}

// sync brings cluster-info up to date from the caches and returns when it must run again
// (the next expiration of a signing token; zero for none).
func (s *ClusterInfoSigner) sync(ctx context.Context, logger klog.Logger, secrets corelisters.SecretNamespaceLister, configMaps corelisters.ConfigMapNamespaceLister) (time.Time, error) {
	cm, err := configMaps.Get(ConfigMapName)
	if apierrors.IsNotFound(err) {
		return time.Time{}, nil // nothing to sign until cluster-info is published
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("getting %s/%s from the cache: %w", Namespace, ConfigMapName, err)
	}
	tokens, err := secrets.List(labels.Everything())
	if err != nil {
		return time.Time{}, fmt.Errorf("listing bootstrap tokens from the cache: %w", err)
	}
	updated, next, err := signedConfigMap(cm, tokens, s.opts.Clock.Now())
	if err != nil || updated == nil {
		return next, err
	}
	if _, err := s.client.CoreV1().ConfigMaps(Namespace).Update(ctx, updated, metav1.UpdateOptions{}); err != nil {
		// A conflict means the cache is behind: the retry sees the newer object.
		return next, fmt.Errorf("updating signatures of %s/%s: %w", Namespace, ConfigMapName, err)
	}
	logger.V(2).Info("Updated cluster-info signatures", "signatures", signatureIDs(updated.Data))
	return next, nil
}

// signatureIDs lists the token ids cluster-info carries signatures for (ids are public).
func signatureIDs(data map[string]string) []string {
	var ids []string
	for k := range data {
		if id, ok := strings.CutPrefix(k, SignatureKeyPrefix); ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}
