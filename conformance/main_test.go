package conformance_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/rbac"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

var (
	cp        *controlplane.ControlPlane
	nodeAgent string // the project's node-agent, built once
)

func TestMain(m *testing.M) {
	testenv.Main(m, controlplane.Options{}, &cp, buildNodeAgent, func(cp *controlplane.ControlPlane) (func(), error) {
		// The project's cluster set-up: what kubeadm init writes for joining nodes.
		return nil, rbac.Apply(context.Background(), cp.Client(), rbac.KubeadmPreset(token.KubeadmDefaultGroup))
	})
}

func buildNodeAgent(*controlplane.ControlPlane) (func(), error) {
	dir, err := os.MkdirTemp("", "tlsbootstrap-conformance-")
	if err != nil {
		return nil, err
	}
	nodeAgent = filepath.Join(dir, "node-agent")
	if out, err := exec.Command("go", "build", "-o", nodeAgent, "../examples/node-agent").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building node-agent: %v\n%s", err, out)
	}
	return func() { _ = os.RemoveAll(dir) }, nil
}
