package csr_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
)

var cp *controlplane.ControlPlane

func TestMain(m *testing.M) {
	testenv.MainLazy(m, controlplane.Options{}, &cp)
}

var bindOnce sync.Once

// bootstrapClient authenticates with a new bootstrap token (a Secret written by hand)
// whose group system:bootstrappers is bound to system:node-bootstrapper, as an installer
// would set it up. It returns the client and the token's user name.
func bootstrapClient(t *testing.T) (kubernetes.Interface, string) {
	t.Helper()
	ctx := context.Background()
	admin := cp.Client()
	bindOnce.Do(func() {
		binding := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "csr-test:node-bootstrapper"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:node-bootstrapper"},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "system:bootstrappers"}},
		}
		if _, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	})
	id, secret := randomString(t, 6), randomString(t, 16)
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "bootstrap-token-" + id, Namespace: "kube-system"},
		Type:       "bootstrap.kubernetes.io/token",
		StringData: map[string]string{
			"token-id":                       id,
			"token-secret":                   secret,
			"usage-bootstrap-authentication": "true",
			"expiration":                     time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		},
	}
	if _, err := admin.CoreV1().Secrets("kube-system").Create(ctx, s, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	client := kubernetes.NewForConfigOrDie(cp.TokenConfig(id + "." + secret))
	// RBAC sees new bindings through an informer: wait until the right is in effect.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := client.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{Limit: 1})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bootstrap token cannot list CSRs: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return client, "system:bootstrap:" + id
}

// approveAndSign does what an approver and signer would: approve through /approval and
// put a certificate from the cluster CA into /status.
func approveAndSign(t *testing.T, name string) {
	t.Helper()
	obj := setCondition(t, name, certificatesv1.CertificateApproved, "TestApproved", "approved by the test")
	obj.Status.Certificate = issue(t, cp.CA, obj.Spec.Request, time.Now().Add(-5*time.Minute), time.Hour)
	if _, err := cp.Client().CertificatesV1().CertificateSigningRequests().UpdateStatus(context.Background(), obj, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("signing %s: %v", name, err)
	}
}

// setCondition adds an Approved or Denied condition through /approval, or a Failed one
// through /status, as the admin.
func setCondition(t *testing.T, name string, typ certificatesv1.RequestConditionType, reason, message string) *certificatesv1.CertificateSigningRequest {
	t.Helper()
	ctx := context.Background()
	api := cp.Client().CertificatesV1().CertificateSigningRequests()
	obj, err := api.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	obj.Status.Conditions = append(obj.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
		Type: typ, Status: corev1.ConditionTrue, Reason: reason, Message: message,
	})
	if typ == certificatesv1.CertificateFailed {
		obj, err = api.UpdateStatus(ctx, obj, metav1.UpdateOptions{})
	} else {
		obj, err = api.UpdateApproval(ctx, name, obj, metav1.UpdateOptions{})
	}
	if err != nil {
		t.Fatalf("setting %s on %s: %v", typ, name, err)
	}
	return obj
}

// waitExists polls until the CSR name exists (created by code under test in another
// goroutine).
func waitExists(t *testing.T, name string) *certificatesv1.CertificateSigningRequest {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		obj, err := cp.Client().CertificatesV1().CertificateSigningRequests().Get(context.Background(), name, metav1.GetOptions{})
		if err == nil {
			return obj
		}
		if time.Now().After(deadline) {
			t.Fatalf("CSR %s never appeared: %v", name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func randomString(t *testing.T, n int) string {
	t.Helper()
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		v, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			t.Fatal(err)
		}
		b[i] = alphabet[v.Int64()]
	}
	return string(b)
}

func nodeName(t *testing.T) string { return fmt.Sprintf("node-%s", randomString(t, 8)) }
