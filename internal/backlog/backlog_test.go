package backlog

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	certlisters "k8s.io/client-go/listers/certificates/v1"
	"k8s.io/client-go/tools/cache"
	clocktesting "k8s.io/utils/clock/testing"
)

func csrOf(name, signer string, age time.Duration, now time.Time, conds []certificatesv1.RequestConditionType, issued bool) *certificatesv1.CertificateSigningRequest {
	obj := &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(now.Add(-age))},
		Spec:       certificatesv1.CertificateSigningRequestSpec{SignerName: signer},
	}
	for _, c := range conds {
		obj.Status.Conditions = append(obj.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{Type: c, Status: corev1.ConditionTrue})
	}
	if issued {
		obj.Status.Certificate = []byte("cert")
	}
	return obj
}

// Each CSR is counted once, in its signer's row (or "other"), and the oldest pending age
// is per signer; every served signer has every state, zeros included.
func TestCollect(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	client, serving := certificatesv1.KubeAPIServerClientKubeletSignerName, certificatesv1.KubeletServingSignerName
	approved, denied, failed := certificatesv1.CertificateApproved, certificatesv1.CertificateDenied, certificatesv1.CertificateFailed
	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	for _, obj := range []*certificatesv1.CertificateSigningRequest{
		csrOf("pending-old", client, 10*time.Minute, now, nil, false),
		csrOf("pending-new", client, time.Minute, now, nil, false),
		csrOf("approved", client, time.Minute, now, []certificatesv1.RequestConditionType{approved}, false),
		csrOf("issued", client, time.Hour, now, []certificatesv1.RequestConditionType{approved}, true),
		csrOf("denied", serving, time.Hour, now, []certificatesv1.RequestConditionType{denied}, false),
		csrOf("failed", serving, time.Hour, now, []certificatesv1.RequestConditionType{approved, failed}, false),
		csrOf("foreign-a", "example.com/a", 2*time.Hour, now, nil, false),
		csrOf("foreign-b", "example.com/b", time.Hour, now, nil, false),
	} {
		if err := indexer.Add(obj); err != nil {
			t.Fatal(err)
		}
	}
	c := NewCollector(certlisters.NewCertificateSigningRequestLister(indexer), []string{client, serving}, clocktesting.NewFakePassiveClock(now))
	want := `
# HELP tlsbootstrap_csr_oldest_pending_seconds Age of the oldest pending CSR by signer (0 when none is pending).
# TYPE tlsbootstrap_csr_oldest_pending_seconds gauge
tlsbootstrap_csr_oldest_pending_seconds{signer="kubernetes.io/kube-apiserver-client-kubelet"} 600
tlsbootstrap_csr_oldest_pending_seconds{signer="kubernetes.io/kubelet-serving"} 0
tlsbootstrap_csr_oldest_pending_seconds{signer="other"} 7200
# HELP tlsbootstrap_csrs CSRs in the controller's cache by signer and state (pending, approved_not_issued, issued, denied, failed).
# TYPE tlsbootstrap_csrs gauge
tlsbootstrap_csrs{signer="kubernetes.io/kube-apiserver-client-kubelet",state="approved_not_issued"} 1
tlsbootstrap_csrs{signer="kubernetes.io/kube-apiserver-client-kubelet",state="denied"} 0
tlsbootstrap_csrs{signer="kubernetes.io/kube-apiserver-client-kubelet",state="failed"} 0
tlsbootstrap_csrs{signer="kubernetes.io/kube-apiserver-client-kubelet",state="issued"} 1
tlsbootstrap_csrs{signer="kubernetes.io/kube-apiserver-client-kubelet",state="pending"} 2
tlsbootstrap_csrs{signer="kubernetes.io/kubelet-serving",state="approved_not_issued"} 0
tlsbootstrap_csrs{signer="kubernetes.io/kubelet-serving",state="denied"} 1
tlsbootstrap_csrs{signer="kubernetes.io/kubelet-serving",state="failed"} 1
tlsbootstrap_csrs{signer="kubernetes.io/kubelet-serving",state="issued"} 0
tlsbootstrap_csrs{signer="kubernetes.io/kubelet-serving",state="pending"} 0
tlsbootstrap_csrs{signer="other",state="approved_not_issued"} 0
tlsbootstrap_csrs{signer="other",state="denied"} 0
tlsbootstrap_csrs{signer="other",state="failed"} 0
tlsbootstrap_csrs{signer="other",state="issued"} 0
tlsbootstrap_csrs{signer="other",state="pending"} 2
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
