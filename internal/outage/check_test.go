package outage_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/rotate"
)

// current reads the node's certificate behind kubelet-client-current.pem and checks that
// the file is a whole certificate and key pair for the node, valid now, readable by its
// owner only.
func current(n node) (*x509.Certificate, error) {
	path := filepath.Join(n.certDir(), rotate.ClientPrefix+"-current.pem")
	info, err := os.Stat(path) // follows the link
	if err != nil {
		return nil, fmt.Errorf("no current certificate: %w", err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		return nil, fmt.Errorf("%s has mode %o, want 600", path, mode)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pair, err := rotate.ParsePair(data)
	if err != nil {
		return nil, fmt.Errorf("%s is not a certificate and key pair: %w", path, err)
	}
	if cn := pair.Leaf.Subject.CommonName; cn != "system:node:"+n.name {
		return nil, fmt.Errorf("current certificate is for %q, want system:node:%s", cn, n.name)
	}
	if now := time.Now(); now.Before(pair.Leaf.NotBefore) || now.After(pair.Leaf.NotAfter) {
		return nil, fmt.Errorf("current certificate is not valid now (%s to %s)", pair.Leaf.NotBefore, pair.Leaf.NotAfter)
	}
	return pair.Leaf, nil
}

// checkNode: the node ends with a valid key and certificate and a kubeconfig that the API
// server authenticates as the node. It returns the current certificate.
func checkNode(t *testing.T, n node) *x509.Certificate {
	t.Helper()
	leaf, err := current(n)
	if err != nil {
		t.Fatal(err)
	}
	status, err := kubeconfig.Check(n.kubeconfig(), time.Now())
	if err != nil {
		t.Fatalf("node kubeconfig: %v", err)
	}
	if !strings.Contains(status.Subject, "system:node:"+n.name) {
		t.Errorf("node kubeconfig holds a certificate for %s", status.Subject)
	}
	user := testenv.WhoAmI(t, n.kubeconfig())
	if user.Username != "system:node:"+n.name || !slices.Contains(user.Groups, "system:nodes") {
		t.Errorf("node kubeconfig authenticates as %s %v, want system:node:%s in system:nodes", user.Username, user.Groups, n.name)
	}
	return leaf
}

// bootstrapKubeconfig makes a bootstrap token and kubeconfig (testenv.BootstrapKubeconfig)
// and waits until the API server authenticates the token: its authenticator reads token
// Secrets from an informer, which may lag behind the write (more so right after an etcd
// restart), and the agent takes a 401 on its first request as final.
func bootstrapKubeconfig(t *testing.T) string {
	t.Helper()
	path := testenv.BootstrapKubeconfig(t, cp)
	cfg, err := kubeconfig.RESTConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for {
		_, err := client.AuthenticationV1().SelfSubjectReviews().Create(context.Background(), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err == nil {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("the new bootstrap token does not authenticate: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if d := time.Since(start); d > time.Second {
		t.Logf("the new bootstrap token authenticated only after %s", d.Round(time.Millisecond))
	}
	return path
}
