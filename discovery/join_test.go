package discovery_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	certutil "k8s.io/client-go/util/cert"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/discovery"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/node"
	"github.com/tlsbootstrap/tlsbootstrap/rbac"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// A node joins knowing only the server address, a token and the CA pin, as with
// `kubeadm join <server> --token <token> --discovery-token-ca-cert-hash <pin>`: the
// controller process signs cluster-info and approves and signs the node's CSR.
func TestJoinWithTokenServerAndPin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin := cp.Client()

	// Admin side, as kubeadm init: RBAC, cluster-info, a default token, the controllers.
	if err := rbac.Apply(ctx, admin, rbac.KubeadmPreset("")); err != nil {
		t.Fatal(err)
	}
	publish(t)
	tok, err := token.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := token.Create(ctx, admin, token.DefaultSpec(tok)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = token.Delete(context.Background(), admin, tok.ID) })
	ctrlCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- controller.Run(ctrlCtx, admin, controller.Options{
			Controllers:      []string{controller.CSRApproving, controller.CSRSigning, controller.BootstrapSigner},
			ClusterSigningCA: cp.CA.Signing(),
		})
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("controller.Run: %v", err)
		}
	})
	caCerts, err := certutil.ParseCertsPEM(cp.ServingCAPEM())
	if err != nil {
		t.Fatal(err)
	}
	pin := discovery.Pin(caCerts[0])

	// Node side: nothing but these three strings.
	server, joinToken := cp.Host(), tok
	discovered, err := kubeconfig.Discover(ctx, kubeconfig.DiscoverOptions{
		Server: server, Token: joinToken, CACertHashes: []string{pin},
		Timeout: 30 * time.Second, RetryInterval: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	dir := t.TempDir()
	bootstrapPath := filepath.Join(dir, "bootstrap-kubelet.conf")
	if err := kubeconfig.Write(bootstrapPath, discovered); err != nil {
		t.Fatal(err)
	}
	const nodeName = "joined-by-discovery"
	res, err := node.Bootstrap(ctx, node.Options{
		BootstrapKubeconfig: bootstrapPath,
		Kubeconfig:          filepath.Join(dir, "kubelet.conf"),
		CertDir:             filepath.Join(dir, "pki"),
		NodeName:            nodeName,
	})
	if err != nil {
		t.Fatalf("node.Bootstrap with the discovered kubeconfig: %v", err)
	}
	if cn := res.Certificate.Subject.CommonName; cn != "system:node:"+nodeName {
		t.Errorf("certificate CN %q", cn)
	}

	// The node kubeconfig works and is the node's identity.
	rc, err := kubeconfig.RESTConfig(res.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	review, err := kubernetes.NewForConfigOrDie(rc).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("node kubeconfig does not authenticate: %v", err)
	}
	if got := review.Status.UserInfo.Username; got != "system:node:"+nodeName {
		t.Errorf("node kubeconfig authenticates as %q", got)
	}
}
