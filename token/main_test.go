package token_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
)

// cp is the package's real control plane; nil in fuzzing processes, which need none.
var cp *controlplane.ControlPlane

func TestMain(m *testing.M) { testenv.MainLazy(m, controlplane.Options{}, &cp) }

func needCluster(t *testing.T) {
	t.Helper()
	if cp == nil {
		t.Skip("no control plane in this process")
	}
}

var whoAmI = testenv.UserOf

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
