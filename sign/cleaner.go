package sign

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
)

// CleanerOptions configure NewCleaner. The zero value is kube-controller-manager's
// behaviour.
type CleanerOptions struct {
	// Interval between two passes of Run. Default 1h.
	Interval time.Duration
	// Retention per CSR state; zero fields take DefaultRetention's.
	Retention Retention
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger logs one line per deleted CSR. Default klog.Background().
	Logger klog.Logger
}

// Cleaner deletes old CSRs by the Retention rules, like kube-controller-manager's
// csrcleaner.
type Cleaner struct {
	client   kubernetes.Interface
	interval time.Duration
	keep     Retention
	now      func() time.Time
	logger   klog.Logger
}

// NewCleaner returns a Cleaner using client to list and delete CSRs.
func NewCleaner(client kubernetes.Interface, opts CleanerOptions) *Cleaner {
	c := &Cleaner{client: client, interval: opts.Interval, keep: opts.Retention.withDefaults(), now: opts.Now, logger: opts.Logger}
	if c.interval <= 0 {
		c.interval = time.Hour
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.logger.GetSink() == nil {
		c.logger = klog.Background()
	}
	c.logger = c.logger.WithName("csrcleaner")
	return c
}

// Run cleans at once and then every Interval until ctx ends; errors are logged and the
// next pass tries again.
func (c *Cleaner) Run(ctx context.Context) {
	c.logger.Info("Starting CSR cleaner", "interval", c.interval)
	defer c.logger.Info("Stopped CSR cleaner")
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		if _, err := c.CleanOnce(ctx); err != nil && ctx.Err() == nil {
			c.logger.Error(err, "Cleaning CSRs")
		}
	}, c.interval)
}

// CleanOnce lists every CSR and deletes those the Retention rules select, returning the
// names deleted. Deletes carry the listed UID and resourceVersion as preconditions, so a CSR
// that changed (was approved, signed, re-created) since the list is left for the next pass.
func (c *Cleaner) CleanOnce(ctx context.Context) ([]string, error) {
	api := c.client.CertificatesV1().CertificateSigningRequests()
	list, err := api.List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing CSRs: %w", err)
	}
	now := c.now()
	var deleted []string
	var errs []error
	for i := range list.Items {
		req := &list.Items[i]
		del, why := c.keep.ShouldDelete(req, now)
		if !del {
			continue
		}
		uid, rv := req.UID, req.ResourceVersion
		err := api.Delete(ctx, req.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv}})
		switch {
		case err == nil:
			deleted = append(deleted, req.Name)
			c.logger.Info("Deleted CSR", "csr", req.Name, "reason", why)
		case apierrors.IsNotFound(err), apierrors.IsConflict(err):
			// Gone or changed meanwhile: nothing to do now.
		default:
			errs = append(errs, fmt.Errorf("deleting CSR %q: %w", req.Name, err))
		}
	}
	return deleted, errors.Join(errs...)
}
