package csrcleaner_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	certificatesv1 "k8s.io/api/certificates/v1"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

var cp *controlplane.ControlPlane

func TestMain(m *testing.M) { testenv.MainLazy(m, controlplane.Options{}, &cp) }

func mustCA(t testing.TB, opts sign.SelfSignedOptions) *sign.CA {
	t.Helper()
	ca, err := sign.NewSelfSignedCA(opts)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

type request struct {
	cn     string
	orgs   []string
	dns    []string
	ips    []net.IP
	emails []string
}

func (r request) pem(t testing.TB, key crypto.Signer) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:        pkix.Name{CommonName: r.cn, Organization: r.orgs},
		DNSNames:       r.dns,
		IPAddresses:    r.ips,
		EmailAddresses: r.emails,
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

var nameSeq atomic.Int64

// uniqueName gives each test CSR its own name in the shared API server.
func uniqueName(t testing.TB) string {
	n := strings.ToLower(strings.NewReplacer("/", "-", "_", "-", " ", "-").Replace(t.Name()))
	if len(n) > 40 {
		n = n[:40]
	}
	return fmt.Sprintf("%s-%d", strings.Trim(n, "-"), nameSeq.Add(1))
}

func csrObject(name, signer string, reqPEM []byte, usages []certificatesv1.KeyUsage, expirationSeconds *int32) *certificatesv1.CertificateSigningRequest {
	return &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: certificatesv1.CertificateSigningRequestSpec{
			Request:           reqPEM,
			SignerName:        signer,
			Usages:            usages,
			ExpirationSeconds: expirationSeconds,
		},
	}
}

// kubeletClientCSR is a valid kubelet client CSR for node, with its key.
func kubeletClientCSR(t testing.TB, name, node string) (*certificatesv1.CertificateSigningRequest, *ecdsa.PrivateKey) {
	key := newKey(t)
	req := request{cn: "system:node:" + node, orgs: []string{"system:nodes"}}.pem(t, key)
	return csrObject(name, certificatesv1.KubeAPIServerClientKubeletSignerName, req, clientUsages, nil), key
}

var (
	clientUsages  = []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}
	servingUsages = []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment, certificatesv1.UsageServerAuth}
)

func create(t testing.TB, client kubernetes.Interface, obj *certificatesv1.CertificateSigningRequest) *certificatesv1.CertificateSigningRequest {
	t.Helper()
	out, err := client.CertificatesV1().CertificateSigningRequests().Create(context.Background(), obj, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating CSR %s: %v", obj.Name, err)
	}
	return out
}

// setCondition writes an Approved or Denied condition through /approval, or Failed through
// /status, as a human or another controller would.
func setCondition(t testing.TB, client kubernetes.Interface, obj *certificatesv1.CertificateSigningRequest, typ certificatesv1.RequestConditionType) *certificatesv1.CertificateSigningRequest {
	t.Helper()
	obj = obj.DeepCopy()
	obj.Status.Conditions = append(obj.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
		Type: typ, Status: corev1.ConditionTrue, Reason: "Test" + string(typ), Message: "set by the test",
	})
	api := client.CertificatesV1().CertificateSigningRequests()
	var err error
	if typ == certificatesv1.CertificateFailed {
		obj, err = api.UpdateStatus(context.Background(), obj, metav1.UpdateOptions{})
	} else {
		obj, err = api.UpdateApproval(context.Background(), obj.Name, obj, metav1.UpdateOptions{})
	}
	if err != nil {
		t.Fatalf("setting %s on %s: %v", typ, obj.Name, err)
	}
	return obj
}

func parseCert(t testing.TB, data []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("not a PEM certificate: %q", data)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func int32p(v int32) *int32 { return &v }

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func clusterSigner(t testing.TB) *sign.Signer {
	t.Helper()
	ca, err := sign.LoadCA(cp.CACertFile, cp.CAKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sign.NewSigner(sign.SignerOptions{CA: ca, SigningDuration: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
