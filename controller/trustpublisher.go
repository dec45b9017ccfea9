package controller

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	certificateslisters "k8s.io/client-go/listers/certificates/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/tlsbootstrap/tlsbootstrap/internal/queue"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
	"github.com/tlsbootstrap/tlsbootstrap/trust"
)

// trustResync is how often the trustpublisher reads its signers' CAs (a sign.FileCA looks
// at its files at most every 10s), drops expired CAs from the bundles and compares every
// object it publishes with its cache. The watches repair an edited or deleted object at
// once; the resync repairs what they missed.
const trustResync = 10 * time.Second

// bundlesKey is the queue key of the ClusterTrustBundles; every other key is a namespace
// (whose name has no capital letter).
const bundlesKey = "ClusterTrustBundles"

// trustNamespaces checks Options.TrustBundleNamespaces and returns the namespaces to
// publish to, without duplicates; nil means every namespace.
func trustNamespaces(names []string) ([]string, error) {
	if len(names) == 0 || slices.Equal(names, []string{"*"}) {
		return nil, nil
	}
	var out []string
	for _, n := range names {
		if n == "*" {
			return nil, fmt.Errorf(`trust bundle namespaces %q: "*" (every namespace) cannot be listed with other namespaces`, names)
		}
		if errs := validation.IsDNS1123Label(n); len(errs) > 0 {
			return nil, fmt.Errorf("trust bundle namespaces: %q is not a namespace name: %s", n, strings.Join(errs, "; "))
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// trustSigner is a signer whose CA bundle the trustpublisher publishes.
type trustSigner struct {
	name string
	ca   sign.CAProvider
	// configMaps caches the signer's ConfigMaps (selected by name) in every namespace.
	configMaps corelisters.ConfigMapLister
}

// trustSigners are the signers trustpublisher publishes: each built-in signer with a CA
// (its own in SignerCAs, else ClusterSigningCA), then each custom signer; that is, every
// signer the csrsigning controller would sign for with these options.
func trustSigners(opts *Options) ([]*trustSigner, error) {
	// The signing controller's checks: a SignerCAs key that is not built in, a nil CA, a
	// custom signer's policy.
	if _, err := sign.NewSigner(sign.SignerOptions{CA: opts.ClusterSigningCA, SignerCAs: opts.SignerCAs, CustomSigners: opts.CustomSigners}); err != nil {
		return nil, fmt.Errorf("controller %q: %w", TrustPublisher, err)
	}
	var out []*trustSigner
	for _, name := range slices.Sorted(slices.Values(sign.BuiltinSigners())) {
		ca := opts.SignerCAs[name]
		if ca == nil {
			ca = opts.ClusterSigningCA
		}
		if ca != nil {
			out = append(out, &trustSigner{name: name, ca: ca})
		}
	}
	for _, p := range opts.CustomSigners {
		out = append(out, &trustSigner{name: p.SignerName, ca: p.CA})
	}
	return out, nil
}

// trustPublisher is the trustpublisher controller. For each signer it keeps one bundle,
// the signer's current CA followed by the CAs it rotated out that have not expired, and
// publishes it with trust.Publish as the ClusterTrustBundle linked to the signer and as a
// ConfigMap in each namespace. Watches on those objects (ConfigMaps selected by name, so
// that no other ConfigMap is read) and on Namespaces (when publishing to all) bring a
// deleted or edited object back, and a new namespace its ConfigMaps, at once.
type trustPublisher struct {
	client     kubernetes.Interface
	signers    []*trustSigner
	namespaces []string // nil: every namespace
	workers    int
	clock      clock.WithTicker

	// Set by Run once the caches exist.
	bundleLister certificateslisters.ClusterTrustBundleLister
	// bundlesServed says the API server serves ClusterTrustBundles at
	// trust.ClusterTrustBundleAPI; without it only ConfigMaps are published.
	bundlesServed   bool
	namespaceLister corelisters.NamespaceLister // nil unless namespaces is nil

	mu sync.RWMutex
	// bundles holds each signer's bundle by signer name. It starts from the signer's
	// ClusterTrustBundle, so the CAs rotated out before a restart (or before another
	// replica took over) stay published, and a recreated ConfigMap gets them all.
	bundles map[string][]byte
}

func newTrustPublisher(client kubernetes.Interface, opts *Options) (*trustPublisher, error) {
	signers, err := trustSigners(opts)
	if err != nil {
		return nil, err
	}
	namespaces, err := trustNamespaces(opts.TrustBundleNamespaces)
	if err != nil {
		return nil, err
	}
	return &trustPublisher{client: client, signers: signers, namespaces: namespaces, workers: opts.Workers,
		clock: opts.trustClock, bundles: map[string][]byte{}}, nil
}

// Run publishes until ctx ends. It returns an error only when it cannot start.
func (p *trustPublisher) Run(ctx context.Context) error {
	log := klog.FromContext(ctx).WithName("trust-publisher")
	ctx = klog.NewContext(ctx, log)
	q := queue.New(TrustPublisher)

	shared := informers.NewSharedInformerFactory(p.client, 0)
	factories := []informers.SharedInformerFactory{shared}
	var synced []cache.InformerSynced
	watch := func(inf cache.SharedIndexInformer, enqueue func(key string)) error {
		_ = inf.SetTransform(stripManagedFields) // fails only once started
		on := func(obj any) {
			if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
				enqueue(key)
			}
		}
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: on, UpdateFunc: func(_, obj any) { on(obj) }, DeleteFunc: on,
		}); err != nil {
			return fmt.Errorf("controller %q: adding event handler: %w", TrustPublisher, err)
		}
		synced = append(synced, inf.HasSynced)
		return nil
	}

	// Discovery, once: a cluster older than the ClusterTrustBundle API still gets its
	// ConfigMaps, and says why it gets nothing else in one line.
	served, reason, err := trust.ServesClusterTrustBundles(p.client.Discovery())
	if err != nil {
		return fmt.Errorf("controller %q: %w", TrustPublisher, err)
	}
	p.bundlesServed = served
	if !served {
		log.Info("Publishing CA bundles as ConfigMaps only: " + reason)
	} else {
		bundles := shared.Certificates().V1().ClusterTrustBundles()
		p.bundleLister = bundles.Lister()
		ours := map[string]bool{}
		for _, s := range p.signers {
			ours[trust.BundleName(s.name, trust.DefaultBundleSuffix)] = true
		}
		if err := watch(bundles.Informer(), func(name string) {
			if ours[name] {
				q.Add(bundlesKey)
			}
		}); err != nil {
			return err
		}
	}
	for _, s := range p.signers {
		f := informers.NewSharedInformerFactoryWithOptions(p.client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", trust.ConfigMapName(s.name)).String()
		}))
		factories = append(factories, f)
		cms := f.Core().V1().ConfigMaps()
		s.configMaps = cms.Lister()
		if err := watch(cms.Informer(), func(key string) {
			if ns, _, err := cache.SplitMetaNamespaceKey(key); err == nil && p.publishesTo(ns) {
				q.Add(ns)
			}
		}); err != nil {
			return err
		}
	}
	if p.namespaces == nil {
		namespaces := shared.Core().V1().Namespaces()
		p.namespaceLister = namespaces.Lister()
		if err := watch(namespaces.Informer(), q.Add); err != nil {
			return err
		}
	}
	for _, f := range factories {
		f.Start(ctx.Done())
		defer f.Shutdown()
	}

	// The resync: once the caches have synced, then at every tick.
	resyncDone := make(chan struct{})
	defer func() { <-resyncDone }()
	go func() {
		defer close(resyncDone)
		if !cache.WaitForCacheSync(ctx.Done(), synced...) {
			return
		}
		where := any(p.namespaces)
		if p.namespaces == nil {
			where = "all"
		}
		log.Info("Publishing CA bundles", "signers", p.signerNames(), "namespaces", where)
		ticker := p.clock.NewTicker(trustResync)
		defer ticker.Stop()
		for {
			p.refresh(log)
			p.enqueueAll(q)
			select {
			case <-ctx.Done():
				return
			case <-ticker.C():
			}
		}
	}()
	return q.Run(ctx, p.workers, func(ctx context.Context, key string) (queue.Result, error) {
		if key == bundlesKey {
			return queue.Result{}, p.syncBundles(ctx)
		}
		return queue.Result{}, p.syncNamespace(ctx, key)
	}, synced...)
}

func (p *trustPublisher) publishesTo(ns string) bool {
	return p.namespaces == nil || slices.Contains(p.namespaces, ns)
}

func (p *trustPublisher) signerNames() []string {
	names := make([]string, len(p.signers))
	for i, s := range p.signers {
		names[i] = s.name
	}
	return names
}

func (p *trustPublisher) bundle(signer string) []byte {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.bundles[signer]
}

// refresh computes each signer's bundle anew: its current CA, then its bundle so far and
// its ClusterTrustBundle's, without the certificates expired now. A CA that cannot be read
// leaves the signer's bundle as it was.
func (p *trustPublisher) refresh(log klog.Logger) {
	now := p.clock.Now()
	for _, s := range p.signers {
		ca, err := s.ca.Current()
		if err != nil {
			log.Error(err, "Reading the CA; its bundle stays as it was", "signer", s.name)
			continue
		}
		var published []byte // what the ClusterTrustBundle holds, when the API is served
		if p.bundlesServed {
			if obj, err := p.bundleLister.Get(trust.BundleName(s.name, trust.DefaultBundleSuffix)); err == nil {
				published = []byte(obj.Spec.TrustBundle)
				if _, err := trust.ParseBundle(published); err != nil {
					published = nil
				}
			}
		}
		before := p.bundle(s.name)
		bundle, err := trust.MergeBundles(now, ca.CertPEM(), before, published)
		if err != nil {
			log.Error(err, "Computing the CA bundle; it stays as it was", "signer", s.name)
			continue
		}
		if bytes.Equal(bundle, before) {
			continue
		}
		p.mu.Lock()
		p.bundles[s.name] = bundle
		p.mu.Unlock()
		log.Info("CA bundle to publish", "signer", s.name, "certificates", describeBundle(bundle))
	}
}

// enqueueAll queues the ClusterTrustBundles and every namespace published to.
func (p *trustPublisher) enqueueAll(q *queue.Queue) {
	if p.bundlesServed {
		q.Add(bundlesKey)
	}
	if p.namespaces != nil {
		for _, ns := range p.namespaces {
			q.Add(ns)
		}
		return
	}
	all, err := p.namespaceLister.List(labels.Everything())
	if err != nil {
		return // a cache lister does not fail
	}
	for _, ns := range all {
		q.Add(ns.Name)
	}
}

// syncBundles publishes each signer's ClusterTrustBundle that the cache shows out of date.
func (p *trustPublisher) syncBundles(ctx context.Context) error {
	now := p.clock.Now()
	var errs []error
	for _, s := range p.signers {
		bundle := p.bundle(s.name)
		if bundle == nil {
			continue // its CA was never read (refresh logged why)
		}
		obj, err := p.bundleLister.Get(trust.BundleName(s.name, trust.DefaultBundleSuffix))
		if err == nil && upToDate(now, bundle, obj.Spec.TrustBundle) {
			continue
		}
		res, err := trust.Publish(ctx, p.client, trust.Options{SignerName: s.name, CABundle: bundle, Clock: p.clock})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		logPublished(ctx, s.name, res)
	}
	return errors.Join(errs...)
}

// syncNamespace publishes each signer's ConfigMap in ns that the cache shows out of date.
func (p *trustPublisher) syncNamespace(ctx context.Context, ns string) error {
	if p.namespaceLister != nil {
		obj, err := p.namespaceLister.Get(ns)
		if apierrors.IsNotFound(err) || (err == nil && obj.Status.Phase == corev1.NamespaceTerminating) {
			return nil
		}
	}
	now := p.clock.Now()
	var errs []error
	for _, s := range p.signers {
		bundle := p.bundle(s.name)
		if bundle == nil {
			continue
		}
		cm, err := s.configMaps.ConfigMaps(ns).Get(trust.ConfigMapName(s.name))
		if err == nil && upToDate(now, bundle, cm.Data[trust.DefaultConfigMapKey]) {
			continue
		}
		res, err := trust.Publish(ctx, p.client, trust.Options{SignerName: s.name, CABundle: bundle,
			Namespaces: []string{ns}, SkipClusterTrustBundle: true, Clock: p.clock})
		switch {
		case apierrors.IsNotFound(err):
			// A listed namespace that does not exist: the resync publishes once it does.
			klog.FromContext(ctx).V(2).Info("Namespace not found; publishing once it exists", "namespace", ns)
			return nil
		case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
			return nil
		case err != nil:
			errs = append(errs, err)
		default:
			logPublished(ctx, s.name, res)
		}
	}
	return errors.Join(errs...)
}

// upToDate reports whether an object holding have needs no write to publish want: it holds
// want already, or more (trust.Publish keeps unexpired certificates it finds).
func upToDate(now time.Time, want []byte, have string) bool {
	if string(want) == have {
		return true
	}
	merged, err := trust.MergeBundles(now, want, []byte(have))
	return err == nil && string(merged) == have
}

func logPublished(ctx context.Context, signer string, res trust.Result) {
	if len(res.Changed) > 0 {
		klog.FromContext(ctx).Info("Published CA bundle", "signer", signer, "objects", res.Changed, "certificates", describeBundle(res.Bundle))
	}
}

// describeBundle names the certificates of a bundle for a log line: subject and expiry.
func describeBundle(bundle []byte) []string {
	certs, err := trust.ParseBundle(bundle)
	if err != nil {
		return []string{err.Error()}
	}
	out := make([]string, len(certs))
	for i, c := range certs {
		out[i] = fmt.Sprintf("%s (until %s)", c.Subject, c.NotAfter.UTC().Format(time.RFC3339))
	}
	return out
}

// stripManagedFields drops what the publisher never reads from cached objects.
func stripManagedFields(obj any) (any, error) {
	if m, err := meta.Accessor(obj); err == nil {
		m.SetManagedFields(nil)
	}
	return obj, nil
}
