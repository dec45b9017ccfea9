package testenv

import (
	"context"
	"path/filepath"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// BootstrapKubeconfig creates a bootstrap token with kubeadm's defaults (token.DefaultSpec:
// 24h, group system:bootstrappers:kubeadm:default-node-token) on cp, writes a bootstrap
// kubeconfig for it in a temporary folder of t and returns the kubeconfig's path.
func BootstrapKubeconfig(t testing.TB, cp *controlplane.ControlPlane) string {
	t.Helper()
	tok, err := token.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := token.Create(context.Background(), cp.Client(), token.DefaultSpec(tok)); err != nil {
		t.Fatal(err)
	}
	cfg, err := kubeconfig.Bootstrap(kubeconfig.BootstrapOptions{Server: cp.Host(), CAData: cp.ServingCAPEM(), Token: tok.Reveal()})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bootstrap.kubeconfig")
	if err := kubeconfig.Write(path, cfg); err != nil {
		t.Fatal(err)
	}
	return path
}

// WhoAmI returns who the kubeconfig at path authenticates as (a SelfSubjectReview); the
// test fails when it does not authenticate.
func WhoAmI(t testing.TB, kubeconfigPath string) authenticationv1.UserInfo {
	t.Helper()
	cfg, err := kubeconfig.RESTConfig(kubeconfigPath)
	if err != nil {
		t.Fatal(err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	review, err := client.AuthenticationV1().SelfSubjectReviews().Create(context.Background(), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("kubeconfig %s does not authenticate: %v", kubeconfigPath, err)
	}
	return review.Status.UserInfo
}
