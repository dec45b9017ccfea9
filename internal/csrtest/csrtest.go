// Package csrtest holds what the packages' tests share for making and driving CSRs on the
// real API server: requests built with crypto/x509 alone (so that tests of csr's own
// builders do not depend on them), CSR objects, condition writes, RBAC grants and
// impersonated clients. Only tests import it.
package csrtest

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
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

// Usages of kubelet client and serving CSRs.
var (
	ClientUsages  = []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}
	ServingUsages = []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment, certificatesv1.UsageServerAuth}
)

// Request is an x509 certificate request's content.
type Request struct {
	CN     string
	Orgs   []string
	DNS    []string
	IPs    []net.IP
	Emails []string
	URIs   []*url.URL
}

// PEM signs the request with key.
func (r Request) PEM(t testing.TB, key crypto.Signer) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:        pkix.Name{CommonName: r.CN, Organization: r.Orgs},
		DNSNames:       r.DNS,
		IPAddresses:    r.IPs,
		EmailAddresses: r.Emails,
		URIs:           r.URIs,
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

// NewKey is a P-256 key.
func NewKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

var seq atomic.Int64

// UniqueName gives each test object its own name in a shared API server.
func UniqueName(t testing.TB) string {
	n := strings.ToLower(strings.NewReplacer("/", "-", "_", "-", " ", "-").Replace(t.Name()))
	if len(n) > 40 {
		n = n[:40]
	}
	return fmt.Sprintf("%s-%d", strings.Trim(n, "-"), seq.Add(1))
}

// Object is a CSR object to create.
func Object(name, signer string, reqPEM []byte, usages []certificatesv1.KeyUsage, expirationSeconds *int32) *certificatesv1.CertificateSigningRequest {
	return &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: certificatesv1.CertificateSigningRequestSpec{
			Request: reqPEM, SignerName: signer, Usages: usages, ExpirationSeconds: expirationSeconds,
		},
	}
}

// KubeletClientCSR is a valid kubelet client CSR for node, with its key.
func KubeletClientCSR(t testing.TB, name, node string) (*certificatesv1.CertificateSigningRequest, *ecdsa.PrivateKey) {
	key := NewKey(t)
	req := Request{CN: "system:node:" + node, Orgs: []string{"system:nodes"}}.PEM(t, key)
	return Object(name, certificatesv1.KubeAPIServerClientKubeletSignerName, req, ClientUsages, nil), key
}

// Create creates obj.
func Create(t testing.TB, client kubernetes.Interface, obj *certificatesv1.CertificateSigningRequest) *certificatesv1.CertificateSigningRequest {
	t.Helper()
	out, err := client.CertificatesV1().CertificateSigningRequests().Create(context.Background(), obj, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating CSR %s: %v", obj.Name, err)
	}
	return out
}

// CreateAs creates obj with the client of a requester, retrying for up to 10 s while the
// API server says forbidden: a binding just made reaches the RBAC authorizer through an
// informer.
func CreateAs(t testing.TB, as kubernetes.Interface, obj *certificatesv1.CertificateSigningRequest) *certificatesv1.CertificateSigningRequest {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		created, err := as.CertificatesV1().CertificateSigningRequests().Create(context.Background(), obj, metav1.CreateOptions{})
		if err == nil {
			return created
		}
		if time.Now().After(deadline) || !strings.Contains(err.Error(), "forbidden") {
			t.Fatalf("creating CSR %s: %v", obj.Name, err)
		}
	}
}

// SetCondition writes an Approved or Denied condition through /approval, or Failed through
// /status, as a human or another controller would.
func SetCondition(t testing.TB, client kubernetes.Interface, obj *certificatesv1.CertificateSigningRequest, typ certificatesv1.RequestConditionType) *certificatesv1.CertificateSigningRequest {
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

// ParseCert parses one PEM certificate.
func ParseCert(t testing.TB, data []byte) *x509.Certificate {
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

// WaitFor polls cond for 20 s.
func WaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// BindClusterRole binds ClusterRole role to user.
func BindClusterRole(t *testing.T, cp *controlplane.ControlPlane, role, user string) {
	t.Helper()
	_, err := cp.Client().RbacV1().ClusterRoleBindings().Create(context.Background(), &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: UniqueName(t)},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// Allowed asks the API server whether user in groups may create
// certificatesigningrequests/subresource (an approval kind).
func Allowed(t *testing.T, cp *controlplane.ControlPlane, user string, groups []string, subresource string) bool {
	t.Helper()
	sar, err := cp.Client().AuthorizationV1().SubjectAccessReviews().Create(context.Background(), &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{User: user, Groups: groups, ResourceAttributes: &authorizationv1.ResourceAttributes{
			Group: "certificates.k8s.io", Resource: "certificatesigningrequests", Subresource: subresource, Verb: "create"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return sar.Status.Allowed
}

// ClientAs is a client impersonating user: the API server records that identity in the
// spec.username and spec.groups of the CSRs it creates.
func ClientAs(t *testing.T, cp *controlplane.ControlPlane, user string, groups ...string) kubernetes.Interface {
	t.Helper()
	c, err := kubernetes.NewForConfig(cp.ImpersonatingConfig(user, groups...))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// MustCA is a self-signed CA.
func MustCA(t testing.TB, opts sign.SelfSignedOptions) *sign.CA {
	t.Helper()
	ca, err := sign.NewSelfSignedCA(opts)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// ClusterSigner signs with cp's cluster CA for at most 24h, as the tests' signers do.
func ClusterSigner(t testing.TB, cp *controlplane.ControlPlane) *sign.Signer {
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
