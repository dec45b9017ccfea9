package ctrlkill_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	watchtools "k8s.io/client-go/tools/watch"
)

// seen is what the watch showed of one CSR over its whole life.
type seen struct {
	// certWrites counts changes of status.certificate to a new non-empty value: a CSR
	// signed once has exactly 1.
	certWrites int
	// certCleared is set when a certificate disappeared again.
	certCleared bool
	lastCert    []byte
	approved    bool
}

// tracker watches every CSR whose name starts with prefix from before the storm, so that
// no status.certificate write goes uncounted (a RetryWatcher resumes from the last
// resourceVersion after a dropped watch).
type tracker struct {
	prefix string
	mu     sync.Mutex
	csrs   map[string]*seen
	issued int
	// broken is the watch's terminal error, if it ended before the test.
	broken error
}

func startTracker(t *testing.T, client kubernetes.Interface, prefix string) *tracker {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	list, err := client.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{Limit: 1})
	must(t, err, "listing CSRs")
	w, err := watchtools.NewRetryWatcherWithContext(ctx, list.ResourceVersion, csrWatcher{client})
	must(t, err, "watching CSRs")
	tr := &tracker{prefix: prefix + "-", csrs: map[string]*seen{}}
	go tr.run(ctx, w)
	t.Cleanup(w.Stop)
	return tr
}

// csrWatcher opens watches on CSRs for the RetryWatcher.
type csrWatcher struct{ client kubernetes.Interface }

func (w csrWatcher) WatchWithContext(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	return w.client.CertificatesV1().CertificateSigningRequests().Watch(ctx, opts)
}

func (tr *tracker) run(ctx context.Context, w *watchtools.RetryWatcher) {
	for ev := range w.ResultChan() {
		switch ev.Type {
		case watch.Added, watch.Modified:
			if obj, ok := ev.Object.(*certificatesv1.CertificateSigningRequest); ok {
				tr.observe(obj)
			}
		case watch.Error:
			tr.mu.Lock()
			tr.broken = fmt.Errorf("watch error: %v", ev.Object)
			tr.mu.Unlock()
		}
	}
	if ctx.Err() == nil {
		tr.mu.Lock()
		if tr.broken == nil {
			tr.broken = fmt.Errorf("watch ended early")
		}
		tr.mu.Unlock()
	}
}

func (tr *tracker) observe(obj *certificatesv1.CertificateSigningRequest) {
	if !strings.HasPrefix(obj.Name, tr.prefix) {
		return
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	s := tr.csrs[obj.Name]
	if s == nil {
		s = &seen{}
		tr.csrs[obj.Name] = s
	}
	for _, c := range obj.Status.Conditions {
		if c.Type == certificatesv1.CertificateApproved && c.Status == corev1.ConditionTrue {
			s.approved = true
		}
	}
	cert := obj.Status.Certificate
	switch {
	case len(cert) == 0 && len(s.lastCert) > 0:
		s.certCleared = true
	case len(cert) > 0 && !bytes.Equal(cert, s.lastCert):
		if s.certWrites == 0 {
			tr.issued++
		}
		s.certWrites++
	}
	s.lastCert = cert
}

// issuedCount is the number of CSRs of the storm issued so far (legitimate or not).
func (tr *tracker) issuedCount() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.issued
}

// waitIssued waits until at least n CSRs are issued; it returns false after timeout, or at
// once when the watch broke.
func (tr *tracker) waitIssued(n int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		tr.mu.Lock()
		issued, broken := tr.issued, tr.broken
		tr.mu.Unlock()
		if issued >= n {
			return true
		}
		if broken != nil || time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// get returns a copy of what was seen of name (zero when never seen).
func (tr *tracker) get(name string) seen {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if s := tr.csrs[name]; s != nil {
		return *s
	}
	return seen{}
}

func (tr *tracker) err() error {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.broken
}

// approvedPending is the number of CSRs approved but not yet issued: at a kill, the work
// in flight.
func (tr *tracker) approvedPending() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	n := 0
	for _, s := range tr.csrs {
		if s.approved && s.certWrites == 0 {
			n++
		}
	}
	return n
}
