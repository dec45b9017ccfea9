package controlplane_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
)

// TestControllerManagerApprovesAndSigns proves the real kube-controller-manager works as the
// approver and signer against this control plane, with certificates from the cluster CA.
func TestControllerManagerApprovesAndSigns(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	admin := cp.Client()
	for name, role := range map[string]string{
		"kcm-smoke-nodeclient":   "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
		"kcm-smoke-bootstrapper": "system:node-bootstrapper",
	} {
		binding := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "system:bootstrappers:kcm-smoke"}},
		}
		if _, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	kcm, err := cp.StartControllerManager(ctx, controlplane.ControllerManagerOptions{SigningDuration: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer kcm.Stop()

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "system:node:kcm-smoke", Organization: []string{"system:nodes"}},
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	requester := kubernetes.NewForConfigOrDie(cp.ImpersonatingConfig("system:bootstrap:kcmsmk", "system:bootstrappers", "system:bootstrappers:kcm-smoke", "system:authenticated"))
	request := &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: "kcm-smoke"},
		Spec: certificatesv1.CertificateSigningRequestSpec{
			Request:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}),
			SignerName: certificatesv1.KubeAPIServerClientKubeletSignerName,
			Usages:     []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth},
		},
	}
	// The bindings reach the authorizer through an informer: retry the create briefly.
	var obj *certificatesv1.CertificateSigningRequest
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		obj, err = requester.CertificatesV1().CertificateSigningRequests().Create(ctx, request, metav1.CreateOptions{})
		return err == nil, nil
	}); err != nil {
		t.Fatalf("creating the CSR as the bootstrap identity: %v", err)
	}
	var issued *certificatesv1.CertificateSigningRequest
	err = wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		got, err := admin.CertificatesV1().CertificateSigningRequests().Get(ctx, obj.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		issued = got
		return len(got.Status.Certificate) > 0, nil
	})
	if err != nil {
		t.Fatalf("kube-controller-manager did not issue the CSR: %v (status %+v)", err, issued.Status.Conditions)
	}
	if c := issued.Status.Conditions[0]; c.Type != certificatesv1.CertificateApproved || c.Reason != "AutoApproved" {
		t.Errorf("condition %+v, want Approved/AutoApproved", c)
	}
	block, _ := pem.Decode(issued.Status.Certificate)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if err := cert.CheckSignatureFrom(cp.CA.Cert); err != nil {
		t.Errorf("issued certificate is not signed by the cluster CA: %v", err)
	}
}
