package token_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// cp is the package's real control plane; nil in fuzzing processes, which need none.
var cp *controlplane.ControlPlane

// staticTokens are written by the token package into the file the API server starts with.
var staticTokens []token.StaticToken

func TestMain(m *testing.M) { os.Exit(runWithControlPlane(m)) }

// runWithControlPlane is testenv.RunLazy plus a static token file written by this package
// before the API server can start (it reads --token-auth-file once, at start), removed
// after.
func runWithControlPlane(m *testing.M) int {
	dir, err := os.MkdirTemp("", "token-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "tokens.csv")
	if err := writeStaticTokens(path); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return testenv.RunLazy(m, controlplane.Options{TokenAuthFile: path}, &cp)
}

func writeStaticTokens(path string) error {
	for _, e := range []struct {
		user, uid string
		groups    []string
	}{
		{"kubelet-bootstrap", "10001", []string{"system:kubelet-bootstrap", "system:bootstrappers:static"}},
		{"user, with comma", "", nil},
	} {
		secret, err := token.GenerateStatic()
		if err != nil {
			return err
		}
		staticTokens = append(staticTokens, token.StaticToken{Token: secret, User: e.user, UID: e.uid, Groups: e.groups})
	}
	return token.SaveTokenFile(path, staticTokens)
}

func needCluster(t *testing.T) {
	t.Helper()
	if cp == nil {
		t.Skip("no control plane in this process")
	}
}

func whoAmI(ctx context.Context, cfg *rest.Config) (*authenticationv1.UserInfo, error) {
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

func statusCode(err error) int32 {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return status.Status().Code
	}
	return 0
}

// eventually retries check until it returns nil or timeout passes, and returns its last
// error: the authenticator and RBAC see Secrets and bindings through informers.
func eventually(timeout time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func wantUnauthorized(ctx context.Context, cfg *rest.Config) func() error {
	return func() error {
		info, err := whoAmI(ctx, cfg)
		if code := statusCode(err); code != http.StatusUnauthorized {
			return fmt.Errorf("got user %v, error %v (HTTP %d), want 401", info, err, code)
		}
		return nil
	}
}
