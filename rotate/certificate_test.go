package rotate_test

import (
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/rotate"
)

// memoryStore is a Store of one's own, in memory: a Manager takes any Store.
type memoryStore struct{ cert *tls.Certificate }

func (s *memoryStore) Current() (*tls.Certificate, error) {
	if s.cert == nil {
		return nil, rotate.ErrNoCertificate
	}
	return s.cert, nil
}

func (s *memoryStore) Update(certPEM, keyPEM []byte) (*tls.Certificate, error) {
	pair, err := rotate.ParsePair(append(append([]byte{}, certPEM...), keyPEM...))
	if err == nil {
		s.cert = pair
	}
	return pair, err
}

// TestCertificateOfAnySigner: a Manager keeps a certificate that is not a kubelet's (a
// kube-apiserver-client certificate that nothing auto-approves), in a Store of its own;
// while its CSR is pending every retry waits on that same CSR instead of filing another,
// and once someone approves it the renewal completes.
func TestCertificateOfAnySigner(t *testing.T) {
	testenv.Need(t)
	const cn = "workload-any-signer"
	store := &memoryStore{}
	m, err := rotate.NewManager(rotate.ManagerOptions{
		Store:  store,
		Client: rotate.FixedClient(cp.Client()),
		Certificate: &rotate.CertificateRequest{
			Template:   func() (csr.RequestOptions, error) { return csr.RequestOptions{Subject: pkix.Name{CommonName: cn}}, nil },
			SignerName: certificatesv1.KubeAPIServerClientSignerName,
			Usages:     []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth},
		},
		RequestTimeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for range 3 {
		if _, err := m.RenewNow(ctx); err == nil {
			t.Fatal("renewed although nothing approves the CSR")
		}
	}
	pending := m.Status().CSR
	list, err := cp.Client().CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range list.Items {
		if r, err := csr.ParseRequestPEM(c.Spec.Request); err == nil && r.Subject.CommonName == cn {
			n++
		}
	}
	if n != 1 || pending == "" {
		t.Fatalf("%d CSRs for %s after 3 timed-out attempts (last %q); want 1, reused", n, cn, pending)
	}
	if err := approve.Approve(ctx, cp.Client(), pending, "TestApproved", "approved by the test"); err != nil {
		t.Fatal(err)
	}
	cert, err := m.RenewNow(ctx)
	if err != nil {
		t.Fatalf("after the approval: %v", err)
	}
	if cert.Subject.CommonName != cn || m.Status().CSR != pending {
		t.Errorf("certificate for %q through CSR %s, want %s through %s", cert.Subject.CommonName, m.Status().CSR, cn, pending)
	}
	if got, err := store.Current(); err != nil || !got.Leaf.Equal(cert) {
		t.Errorf("the store holds %v (%v), want the new certificate", got, err)
	}
}
