package kubeconfig_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/token"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/internal/atomicfile"
	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
)

// The kubeconfigs written here are what a node uses: the API server must authenticate
// them as the bootstrap token's user and as the node.
func TestKubeconfigsAuthenticate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin := cp.Client()
	if _, err := admin.CoreV1().Secrets("kube-system").Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "bootstrap-token-kcfg01", Namespace: "kube-system"},
		Type:       "bootstrap.kubernetes.io/token",
		StringData: map[string]string{"token-id": "kcfg01", "token-secret": "0123456789abcdef", "usage-bootstrap-authentication": "true"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.crt")
	if err := atomicfile.Write(caFile, cp.ServingCAPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	certDir := filepath.Join(dir, "pki")
	certPEM, keyPEM := clientCert(t, cp.CA, "system:node:kcfg-node", []string{"system:nodes"}, time.Now().Add(-5*time.Minute), time.Now().Add(time.Hour))
	writeFile(t, filepath.Join(certDir, "kubelet-client-2030-01-01-00-00-00.pem"), append(certPEM, keyPEM...))
	if err := os.Symlink("kubelet-client-2030-01-01-00-00-00.pem", filepath.Join(certDir, kubeconfig.CurrentClientFile)); err != nil {
		t.Fatal(err)
	}
	bootstrapCA, err := kubeconfig.BootstrapConfig(kubeconfig.BootstrapOptions{Server: cp.Host(), CAData: cp.ServingCAPEM(), Token: token.NewSecret("kcfg01.0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	bootstrapCAFile, err := kubeconfig.BootstrapConfig(kubeconfig.BootstrapOptions{Server: cp.Host(), CAFile: caFile, Token: token.NewSecret("kcfg01.0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	node, err := kubeconfig.NodeConfig(kubeconfig.NodeOptions{Server: cp.Host(), CAData: cp.ServingCAPEM(), CertDir: certDir})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		path      string
		wantUser  string
		wantGroup string
	}{
		{"bootstrap, CA data", writeConfig(t, t.TempDir(), bootstrapCA), "system:bootstrap:kcfg01", "system:bootstrappers"},
		{"bootstrap, CA file", writeConfig(t, t.TempDir(), bootstrapCAFile), "system:bootstrap:kcfg01", "system:bootstrappers"},
		{"node", writeConfig(t, dir, node), "system:node:kcfg-node", "system:nodes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			restCfg, err := kubeconfig.RESTConfig(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			review, err := kubernetes.NewForConfigOrDie(restCfg).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if u := review.Status.UserInfo; u.Username != tc.wantUser || !slices.Contains(u.Groups, tc.wantGroup) {
				t.Fatalf("authenticated as %q %v, want %s in %s", u.Username, u.Groups, tc.wantUser, tc.wantGroup)
			}
		})
	}

	// The node kubeconfig built from the bootstrap one's client configuration works too.
	bootREST, err := kubeconfig.RESTConfig(tests[1].path)
	if err != nil {
		t.Fatal(err)
	}
	fromREST, err := kubeconfig.NodeConfigFromREST(bootREST, certDir)
	if err != nil {
		t.Fatal(err)
	}
	path := writeConfig(t, t.TempDir(), fromREST)
	st, err := kubeconfig.Check(path, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if st.Subject != "CN=system:node:kcfg-node,O=system:nodes" {
		t.Errorf("subject %q", st.Subject)
	}
	restCfg, err := kubeconfig.RESTConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kubernetes.NewForConfigOrDie(restCfg).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("node kubeconfig from the bootstrap configuration: %v", err)
	}
}

// A bootstrap kubeconfig with the wrong CA fails at TLS verification, not later.
func TestWrongCAFailsVerification(t *testing.T) {
	other, err := controlplane.NewCA("not-the-cluster-ca")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := kubeconfig.BootstrapConfig(kubeconfig.BootstrapOptions{Server: cp.Host(), CAData: other.CertPEM, Token: token.NewSecret("kcfg01.0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	restCfg, err := kubeconfig.RESTConfig(writeConfig(t, t.TempDir(), cfg))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = kubernetes.NewForConfigOrDie(restCfg).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Fatalf("got %v, want a TLS verification error", err)
	}
}
