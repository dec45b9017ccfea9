package rotate_test

import (
	"context"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/klog/v2"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/rbac"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

var cp *controlplane.ControlPlane

// signingDuration is short so that certificates live 15 minutes (10m plus the 5m
// backdate); the tests shorten the deadline further so renewals happen within seconds.
const signingDuration = 10 * time.Minute

func TestMain(m *testing.M) {
	testenv.MainLazy(m, controlplane.Options{}, &cp, applyRBAC, startController)
}

// applyRBAC is kubeadm's preset without its group-wide rotation binding: renewal rights
// are granted per node (rbac.NodeRenewalBinding), so a test can revoke one node's.
func applyRBAC(cp *controlplane.ControlPlane) (func(), error) {
	p := rbac.KubeadmPreset(token.KubeadmDefaultGroup)
	var bindings []rbacv1.ClusterRoleBinding
	for _, b := range p.ClusterRoleBindings {
		if b.Name != "kubeadm:node-autoapprove-certificate-rotation" {
			bindings = append(bindings, b)
		}
	}
	p.ClusterRoleBindings = bindings
	p.ClusterRoles = append(p.ClusterRoles, rbac.SeedPreset(rbac.SeedOptions{Nodes: []string{"none"}}).ClusterRoles...)
	return nil, rbac.Apply(context.Background(), cp.Client(), p)
}

// startController runs the project's approver and signer in this process.
func startController(cp *controlplane.ControlPlane) (func(), error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- controller.Run(klog.NewContext(ctx, klog.Background().V(2)), cp.Client(), controller.Options{
			Controllers:      []string{controller.CSRApproving, controller.CSRSigning, controller.ServingApproving},
			ClusterSigningCA: cp.CA.Signing(),
			SigningDuration:  signingDuration,
			SARCacheTTL:      new(time.Duration(0)), // a revoked binding takes effect at once
		})
	}()
	return func() { cancel(); <-done }, nil
}
