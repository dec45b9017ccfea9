package csrcleaner

import (
	"context"
	"errors"
	"fmt"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"
	certinformers "k8s.io/client-go/informers/certificates/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// Options configure New. The zero value is kube-controller-manager's
// behaviour.
type Options struct {
	// Interval between two passes of Run. Default 1h.
	Interval time.Duration
	// Retention per CSR state; zero fields take defaultRetention's.
	Retention Retention
	// Clock tells the time CSRs are judged at. Default the real clock.
	Clock clock.PassiveClock
	// Informer, when set, is read instead of listing CSRs through the API server: a
	// process that already caches CSRs (controller.Run) then holds no second copy of
	// them for a pass. Run waits for its cache to sync; the caller starts it. Without
	// it, each pass lists CSRs in pages of 500. Make the Cleaner before
	// starting the informer's factory.
	Informer certinformers.CertificateSigningRequestInformer
}

// Cleaner deletes old CSRs by the Retention rules, like kube-controller-manager's
// csrcleaner.
type Cleaner struct {
	client   kubernetes.Interface
	interval time.Duration
	keep     Retention
	clock    clock.PassiveClock
	informer certinformers.CertificateSigningRequestInformer
}

// listPageSize bounds the CSRs a pass without an informer holds at once: a single list of
// 10,000 CSRs cost the controller over 100 MB of allocations at its start.
var listPageSize int64 = 500

// NewCleaner returns a Cleaner using client to list and delete CSRs.
func New(client kubernetes.Interface, opts Options) *Cleaner {
	c := &Cleaner{client: client, interval: opts.Interval, keep: opts.Retention.withDefaults(), clock: opts.Clock, informer: opts.Informer}
	if c.interval <= 0 {
		c.interval = time.Hour
	}
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	if c.informer != nil {
		// Registers the informer with its factory now, so that the factory's Start runs
		// it even when nothing else in the process uses CSRs.
		c.informer.Informer()
	}
	return c
}

// Run cleans at once (once the Informer, if any, has synced) and then every Interval until
// ctx ends; errors are logged (to ctx's logger) and the next pass tries again. It returns nil when ctx ends, an error when the Informer never syncs.
func (c *Cleaner) Run(ctx context.Context) error {
	ctx = klog.NewContext(ctx, klog.FromContext(ctx).WithName("csrcleaner"))
	log := klog.FromContext(ctx)
	log.Info("Starting CSR cleaner", "interval", c.interval)
	defer log.Info("Stopped CSR cleaner")
	if c.informer != nil && !cache.WaitForCacheSync(ctx.Done(), c.informer.Informer().HasSynced) {
		if ctx.Err() != nil {
			return nil
		}
		return errors.New("csrcleaner: CSR informer cache did not sync")
	}
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		if _, err := c.CleanOnce(ctx); err != nil && ctx.Err() == nil {
			log.Error(err, "Cleaning CSRs")
		}
	}, c.interval)
	return nil
}

// CleanOnce looks at every CSR (in the Informer's cache, or listed page by page) and
// deletes those the Retention rules select, returning the names deleted. Deletes carry
// the UID and resourceVersion seen as preconditions, so a CSR that changed (was approved,
// signed, re-created) since is left for the next pass.
func (c *Cleaner) CleanOnce(ctx context.Context) ([]string, error) {
	now := c.clock.Now()
	var deleted []string
	var errs []error
	consider := func(req *certificatesv1.CertificateSigningRequest) {
		name, err := c.clean(ctx, req, now)
		if name != "" {
			deleted = append(deleted, name)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if c.informer != nil {
		cached, err := c.informer.Lister().List(labels.Everything())
		if err != nil {
			return nil, fmt.Errorf("listing cached CSRs: %w", err)
		}
		for _, req := range cached {
			consider(req)
		}
		return deleted, errors.Join(errs...)
	}
	opts := metav1.ListOptions{Limit: listPageSize}
	for {
		page, err := c.client.CertificatesV1().CertificateSigningRequests().List(ctx, opts)
		if err != nil {
			errs = append(errs, fmt.Errorf("listing CSRs: %w", err))
			return deleted, errors.Join(errs...)
		}
		for i := range page.Items {
			consider(&page.Items[i])
		}
		if page.Continue == "" {
			return deleted, errors.Join(errs...)
		}
		opts.Continue = page.Continue
	}
}

// clean deletes req if the Retention rules select it, returning its name if it did.
func (c *Cleaner) clean(ctx context.Context, req *certificatesv1.CertificateSigningRequest, now time.Time) (string, error) {
	del, why := c.keep.ShouldDelete(req, now)
	if !del {
		return "", nil
	}
	uid, rv := req.UID, req.ResourceVersion
	err := c.client.CertificatesV1().CertificateSigningRequests().Delete(ctx, req.Name,
		metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv}})
	switch {
	case err == nil:
		klog.FromContext(ctx).Info("Deleted CSR", "csr", req.Name, "reason", why)
		return req.Name, nil
	case apierrors.IsNotFound(err), apierrors.IsConflict(err):
		return "", nil // gone or changed meanwhile: nothing to do now
	}
	return "", fmt.Errorf("deleting CSR %q: %w", req.Name, err)
}
