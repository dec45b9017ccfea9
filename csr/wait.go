package csr

import (
	"context"
	"errors"
	"fmt"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/internal/deadline"
)

// retryInterval spaces out re-reads after a transient error or a closed watch.
const retryInterval = time.Second

// AuthRetryGrace is how long Wait keeps retrying when the API server rejects the
// caller's credentials (401) or rights (403) before it returns that error. The CSR was
// created with the same credentials moments before, so a rejection is most often a
// kube-apiserver that has just restarted: it answers 401 to bootstrap tokens until its
// informer has read their Secrets, and RBAC may deny until its caches are filled.
const AuthRetryGrace = 30 * time.Second

// authRetryGrace is AuthRetryGrace; tests shorten it.
var authRetryGrace = AuthRetryGrace

// Wait watches the CSR name (with UID uid; empty uid accepts any) until it is Approved
// and holds a certificate, and returns the certificate PEM. A closed or expired watch is
// resumed after reading the object again. It fails with *DeniedError, *FailedError,
// *deletedError, *uidChangedError, or *WaitError when ctx ends first (bound it with
// context.WithTimeout). Authentication and authorization failures are retried for
// AuthRetryGrace in a row, then returned.
func Wait(ctx context.Context, client kubernetes.Interface, name string, uid types.UID) ([]byte, error) {
	w := waiter{client: client, name: name, uid: uid, state: StatePendingApproval}
	return w.run(ctx, "")
}

// waitFrom is Wait for an object just read or written (Submit's answer): its outcome is
// judged at once and the watch starts from its resourceVersion, which spares the API
// server one read per node in a join storm.
func waitFrom(ctx context.Context, client kubernetes.Interface, obj *certificatesv1.CertificateSigningRequest) ([]byte, error) {
	w := waiter{client: client, name: obj.Name, uid: obj.UID, state: StatePendingApproval}
	if cert, err := w.check(obj); cert != nil || err != nil {
		return cert, err
	}
	return w.run(ctx, obj.ResourceVersion)
}

// run waits for the outcome: it watches from resourceVersion ("": read the object first),
// and after a closed watch or a transient error reads the object again and resumes.
func (w *waiter) run(ctx context.Context, resourceVersion string) ([]byte, error) {
	for {
		if resourceVersion == "" {
			cert, rv, err := w.read(ctx)
			if cert != nil || err != nil {
				return cert, err
			}
			resourceVersion = rv
		}
		if resourceVersion != "" {
			cert, err := w.watch(ctx, resourceVersion)
			if cert != nil || err != nil {
				return cert, err
			}
			resourceVersion = ""
		}
		select {
		case <-ctx.Done():
			return nil, w.ended(ctx)
		case <-time.After(retryInterval):
		}
	}
}

type waiter struct {
	client  kubernetes.Interface
	name    string
	uid     types.UID
	state   string
	lastErr error
	// rejectedSince is when the current run of 401/403 answers began (zero: none).
	rejectedSince time.Time
}

// read gets the object once: its certificate, a terminal error, or the resourceVersion
// to watch from ("" after a transient error worth retrying).
func (w *waiter) read(ctx context.Context) ([]byte, string, error) {
	obj, err := w.client.CertificatesV1().CertificateSigningRequests().Get(ctx, w.name, metav1.GetOptions{})
	switch {
	case err == nil:
	case apierrors.IsNotFound(err):
		return nil, "", &deletedError{Name: w.name}
	case deadline.Passed(ctx):
		return nil, "", w.ended(ctx)
	case w.rejected(err):
		return nil, "", fmt.Errorf("reading CertificateSigningRequest %q: %w", w.name, err)
	default:
		w.lastErr = err
		return nil, "", nil
	}
	w.rejectedSince = time.Time{}
	cert, err := w.check(obj)
	return cert, obj.ResourceVersion, err
}

// watch follows events from resourceVersion until the outcome is known or the watch
// ends (nil, nil: read again and resume).
func (w *waiter) watch(ctx context.Context, resourceVersion string) ([]byte, error) {
	wi, err := w.client.CertificatesV1().CertificateSigningRequests().Watch(ctx, metav1.ListOptions{
		FieldSelector:   fields.OneTermEqualSelector("metadata.name", w.name).String(),
		ResourceVersion: resourceVersion,
	})
	if err != nil {
		if deadline.Passed(ctx) {
			return nil, w.ended(ctx)
		}
		if w.rejected(err) {
			return nil, fmt.Errorf("watching CertificateSigningRequest %q: %w", w.name, err)
		}
		w.lastErr = err
		return nil, nil
	}
	defer wi.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, w.ended(ctx)
		case ev, ok := <-wi.ResultChan():
			if !ok {
				return nil, nil
			}
			switch ev.Type {
			case watch.Added, watch.Modified:
				obj, ok := ev.Object.(*certificatesv1.CertificateSigningRequest)
				if !ok {
					continue
				}
				if cert, err := w.check(obj); cert != nil || err != nil {
					return cert, err
				}
			case watch.Deleted:
				return nil, &deletedError{Name: w.name}
			case watch.Error:
				// Typically 410 Gone (resourceVersion too old): read again and resume.
				w.lastErr = apierrors.FromObject(ev.Object)
				return nil, nil
			}
		}
	}
}

func (w *waiter) check(obj *certificatesv1.CertificateSigningRequest) ([]byte, error) {
	if w.uid != "" && obj.UID != w.uid {
		return nil, &uidChangedError{Name: w.name, Want: w.uid, Got: obj.UID}
	}
	cert, state, err := outcome(obj)
	if state != "" {
		w.state = state
	}
	return cert, err
}

func (w *waiter) ended(ctx context.Context) error {
	state := w.state
	if w.lastErr != nil {
		state += "; last error: " + w.lastErr.Error()
	}
	return &WaitError{Name: w.name, State: state, Err: deadline.Cause(ctx)}
}

// rejected reports whether err ends the wait: a cancelled context, or a 401/403 that has
// lasted AuthRetryGrace (an earlier one is recorded and retried).
func (w *waiter) rejected(err error) bool {
	if errors.Is(err, context.Canceled) {
		return true
	}
	if !apierrors.IsUnauthorized(err) && !apierrors.IsForbidden(err) {
		return false
	}
	now := time.Now()
	if w.rejectedSince.IsZero() {
		w.rejectedSince = now
	}
	if now.Sub(w.rejectedSince) >= authRetryGrace {
		return true
	}
	w.lastErr = err
	return false
}
