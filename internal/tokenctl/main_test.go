package tokenctl_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/internal/tokenctl"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

var cp *controlplane.ControlPlane

// staticLine is the token file line `tokenctl static` printed before the API server
// started with it as its --token-auth-file.
var staticLine string

var staticIdentity = tokenctl.StaticOptions{User: "kubelet-bootstrap", UID: "10001", Groups: []string{"system:kubelet-bootstrap"}}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tokenctl-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var line bytes.Buffer
	if err := tokenctl.StaticLine(&line, staticIdentity); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	staticLine = line.String()
	tokenFile := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokenFile, line.Bytes(), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testenv.Main(m, controlplane.Options{TokenAuthFile: tokenFile}, &cp, func(*controlplane.ControlPlane) (func(), error) {
		return func() { _ = os.RemoveAll(dir) }, nil
	})
}

// admin is the flag that points a command at the control plane as cluster-admin.
func admin() string { return "--kubeconfig=" + cp.KubeconfigFile }

// run runs one tokenctl command line and returns what it printed.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := tokenctl.Run(context.Background(), args, &out)
	return out.String(), err
}

// mustRun runs a command line that must succeed.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := run(t, args...)
	if err != nil {
		t.Fatalf("tokenctl %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// whoAmI asks the server who cfg authenticates as.
func whoAmI(t *testing.T, cfg *rest.Config) (authenticationv1.UserInfo, error) {
	t.Helper()
	review, err := kubernetes.NewForConfigOrDie(cfg).AuthenticationV1().SelfSubjectReviews().Create(context.Background(), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return authenticationv1.UserInfo{}, err
	}
	return review.Status.UserInfo, nil
}

// caFile writes the API server's serving CA to a file.
func caFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(path, cp.ServingCAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tokenKubeconfig writes a kubeconfig for server authenticating with bearer and
// returns its --kubeconfig flag.
func tokenKubeconfig(t *testing.T, server, bearer string) string {
	t.Helper()
	cfg, err := kubeconfig.BootstrapConfig(kubeconfig.BootstrapOptions{Server: server, CAData: cp.ServingCAPEM(), Token: token.NewSecret(bearer)})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := kubeconfig.Write(path, cfg); err != nil {
		t.Fatal(err)
	}
	return "--kubeconfig=" + path
}

// newToken creates a default kubeadm token as admin.
func newToken(t *testing.T) token.Token {
	t.Helper()
	tok, err := token.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := token.Create(context.Background(), cp.Client(), token.DefaultSpec(tok)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = token.Delete(context.Background(), cp.Client(), tok.ID) })
	return tok
}
