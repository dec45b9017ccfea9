package outage_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
)

var (
	cp *controlplane.ControlPlane
	// agentBin is the node-agent binary built once for the package.
	agentBin string
)

// The scenarios run one after another on the package's control plane: each one stops a
// component and brings it back before it ends, so the next finds the control plane whole.
func TestMain(m *testing.M) {
	testenv.Main(m, controlplane.Options{}, &cp,
		testenv.BuildProgram("github.com/tlsbootstrap/tlsbootstrap/examples/node-agent", &agentBin), grantNodeBootstrap)
}

// grantNodeBootstrap binds what a kubeadm cluster binds: bootstrap tokens may create CSRs
// and have them auto-approved as nodeclient; nodes may renew their own (selfnodeclient).
func grantNodeBootstrap(plane *controlplane.ControlPlane) (func(), error) {
	for name, b := range map[string][2]string{
		"outage-bootstrapper": {"system:node-bootstrapper", "system:bootstrappers"},
		"outage-nodeclient":   {"system:certificates.k8s.io:certificatesigningrequests:nodeclient", "system:bootstrappers"},
		"outage-selfnode":     {"system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", "system:nodes"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := plane.Client().RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: b[0]},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: b[1]}},
		}, metav1.CreateOptions{})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("binding %s: %w", name, err)
		}
	}
	return nil, nil
}

// all reports whether every scenario runs (OUTAGE_ALL=1, make reliability) rather than
// only the API server stopped during bootstrap (make test).
func all() bool { return os.Getenv("OUTAGE_ALL") == "1" }
