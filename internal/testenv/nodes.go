package testenv

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

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
	cfg, err := kubeconfig.BootstrapConfig(kubeconfig.BootstrapOptions{Server: cp.Host(), CAData: cp.ServingCAPEM(), Token: tok.Bearer()})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bootstrap.kubeconfig")
	if err := kubeconfig.Write(path, cfg); err != nil {
		t.Fatal(err)
	}
	return path
}

// WriteToken writes a bootstrap token Secret with kubeadm's usages, the given extra groups
// (none when empty) and expiration, which may already be past: the admin client writes the
// Secret directly, as token.Create would refuse an expired spec. It returns the token.
func WriteToken(t testing.TB, cp *controlplane.ControlPlane, expires time.Time, groups ...string) token.Token {
	t.Helper()
	tok, err := token.Generate()
	if err != nil {
		t.Fatal(err)
	}
	spec := token.DefaultSpec(tok)
	spec.Groups = groups
	spec.TTL, spec.Expires = 0, expires
	secret, err := token.SecretFromSpec(spec, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cp.Client().CoreV1().Secrets(secret.Namespace).Create(context.Background(), secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return tok
}

// WhoAmI returns who the kubeconfig at path authenticates as (a SelfSubjectReview); the
// test fails when it does not authenticate.
func WhoAmI(t testing.TB, kubeconfigPath string) authenticationv1.UserInfo {
	t.Helper()
	cfg, err := kubeconfig.RESTConfig(kubeconfigPath)
	if err != nil {
		t.Fatal(err)
	}
	info, err := UserOf(context.Background(), cfg)
	if err != nil {
		t.Fatalf("kubeconfig %s does not authenticate: %v", kubeconfigPath, err)
	}
	return *info
}

// UserOf returns who cfg authenticates as, by a SelfSubjectReview.
func UserOf(ctx context.Context, cfg *rest.Config) (*authenticationv1.UserInfo, error) {
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	review, err := client.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return nil, err
	}
	return &review.Status.UserInfo, nil
}

// Namespace creates a namespace named prefix followed by a random suffix and deletes it
// when t ends; it returns the name.
func Namespace(t testing.TB, client kubernetes.Interface, prefix string) string {
	t.Helper()
	ns, err := client.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating a namespace %s…: %v", prefix, err)
	}
	t.Cleanup(func() {
		_ = client.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
	})
	return ns.Name
}
