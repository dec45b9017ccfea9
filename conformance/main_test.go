package conformance_test

import (
	"context"
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
	testenv.Main(m, controlplane.Options{}, &cp, testenv.BuildProgram("github.com/tlsbootstrap/tlsbootstrap/examples/node-agent", &nodeAgent), func(cp *controlplane.ControlPlane) (func(), error) {
		// The project's cluster set-up: what kubeadm init writes for joining nodes.
		return nil, rbac.Apply(context.Background(), cp.Client(), rbac.KubeadmPreset(token.KubeadmDefaultGroup))
	})
}
