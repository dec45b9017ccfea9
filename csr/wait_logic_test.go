package csr_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// These cases need a watch that drops at a chosen moment, which a real API server does
// not do on demand; the fake clientset stands in for that piece of pure logic only.
func TestWaitResumesAfterDroppedWatch(t *testing.T) {
	csrs := schema.GroupVersionResource{Group: "certificates.k8s.io", Version: "v1", Resource: "certificatesigningrequests"}
	pending := &certificatesv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: "c1", UID: "uid-1", ResourceVersion: "1"}}
	issued := pending.DeepCopy()
	issued.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue}}
	issued.Status.Certificate = []byte("CERT")
	replaced := issued.DeepCopy()
	replaced.UID = "uid-2"
	gone := &metav1.Status{Status: metav1.StatusFailure, Code: 410, Reason: metav1.StatusReasonExpired, Message: "too old resource version"}

	tests := []struct {
		name string
		// whileDown changes the store while the first watch is down; drop ends that watch.
		whileDown func(k8stesting.ObjectTracker) error
		drop      func(*watch.FakeWatcher)
		wantCert  string
		check     func(error) bool
	}{
		{
			name:      "watch closed, issued meanwhile",
			whileDown: func(tr k8stesting.ObjectTracker) error { return tr.Update(csrs, issued, "") },
			drop:      func(w *watch.FakeWatcher) { w.Stop() },
			wantCert:  "CERT",
		},
		{
			name:      "410 Gone event, issued meanwhile",
			whileDown: func(tr k8stesting.ObjectTracker) error { return tr.Update(csrs, issued, "") },
			drop:      func(w *watch.FakeWatcher) { w.Error(gone) },
			wantCert:  "CERT",
		},
		{
			name:      "replaced while the watch was down",
			whileDown: func(tr k8stesting.ObjectTracker) error { return tr.Update(csrs, replaced, "") },
			drop:      func(w *watch.FakeWatcher) { w.Stop() },
			check: func(err error) bool {
				var e *csr.UIDChangedError
				return errors.As(err, &e) && e.Got == "uid-2" && e.Want == "uid-1"
			},
		},
		{
			name:      "deleted while the watch was down",
			whileDown: func(tr k8stesting.ObjectTracker) error { return tr.Delete(csrs, "", "c1") },
			drop:      func(w *watch.FakeWatcher) { w.Stop() },
			check: func(err error) bool {
				var e *csr.DeletedError
				return errors.As(err, &e) && e.Name == "c1"
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client := fake.NewClientset(pending.DeepCopy())
			var mu sync.Mutex
			watches := 0
			client.PrependWatchReactor("certificatesigningrequests", func(action k8stesting.Action) (bool, watch.Interface, error) {
				mu.Lock()
				defer mu.Unlock()
				watches++
				if sel := action.(k8stesting.WatchActionImpl).WatchRestrictions.Fields.String(); sel != "metadata.name=c1" {
					t.Errorf("watch field selector %q, want metadata.name=c1", sel)
				}
				w := watch.NewFakeWithChanSize(1, false)
				if watches == 1 {
					if err := tc.whileDown(client.Tracker()); err != nil {
						t.Error(err)
					}
					tc.drop(w)
				}
				return true, w, nil
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cert, err := csr.Wait(ctx, client, "c1", "uid-1")
			if tc.check != nil {
				if !tc.check(err) {
					t.Fatalf("got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(cert) != tc.wantCert {
				t.Fatalf("cert %q, want %q", cert, tc.wantCert)
			}
		})
	}
}

// A 401 or 403 is retried for AuthRetryGrace (an API server that has just restarted
// rejects bootstrap tokens until it has read their Secrets), then returned.
func TestWaitRetriesRejectionsForTheGrace(t *testing.T) {
	const grace = 1500 * time.Millisecond
	defer csr.SetAuthRetryGrace(grace)()
	gr := schema.GroupResource{Group: "certificates.k8s.io", Resource: "certificatesigningrequests"}
	issued := &certificatesv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: "c1", UID: "uid-1", ResourceVersion: "1"}}
	issued.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue}}
	issued.Status.Certificate = []byte("CERT")
	for _, tc := range []struct {
		name      string
		rejection error
		rejected  int // answers rejected before the object is served; -1: all
		want      func(error) bool
	}{
		{name: "401 after a restart, then served", rejection: apierrors.NewUnauthorized("Unauthorized"), rejected: 1, want: func(err error) bool { return err == nil }},
		{name: "403 while caches fill, then served", rejection: apierrors.NewForbidden(gr, "c1", errors.New("no")), rejected: 1, want: func(err error) bool { return err == nil }},
		{name: "401 for good", rejection: apierrors.NewUnauthorized("Unauthorized"), rejected: -1, want: apierrors.IsUnauthorized},
		{name: "403 for good", rejection: apierrors.NewForbidden(gr, "c1", errors.New("no")), rejected: -1, want: apierrors.IsForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := fake.NewClientset(issued.DeepCopy())
			var mu sync.Mutex
			answers := 0
			client.PrependReactor("get", "certificatesigningrequests", func(k8stesting.Action) (bool, runtime.Object, error) {
				mu.Lock()
				defer mu.Unlock()
				answers++
				if tc.rejected < 0 || answers <= tc.rejected {
					return true, nil, tc.rejection
				}
				return false, nil, nil
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			start := time.Now()
			cert, err := csr.Wait(ctx, client, "c1", types.UID(""))
			took := time.Since(start)
			if !tc.want(err) {
				t.Fatalf("Wait: %v after %s", err, took)
			}
			if tc.rejected < 0 && (took < grace || took > grace+3*time.Second) {
				t.Errorf("returned after %s, want after the %s grace", took, grace)
			}
			if tc.rejected >= 0 && string(cert) != "CERT" {
				t.Errorf("certificate %q, want CERT", cert)
			}
		})
	}
}
