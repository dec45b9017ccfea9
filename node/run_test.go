package node_test

import (
	"context"
	"crypto/x509"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tlsbootstrap/tlsbootstrap/node"
	"github.com/tlsbootstrap/tlsbootstrap/rbac"
	"github.com/tlsbootstrap/tlsbootstrap/rotate"
)

// TestRun: the node agent as a library, served by kube-controller-manager. Bootstrap
// credentials in memory; the client certificate renews at its deadline (here: the first
// one at once) and on demand; everything stops when the context ends.
func TestRun(t *testing.T) {
	const nodeName = "run-node"
	// Kubernetes' own selfnodeclient role, for this node alone.
	renewals := rbac.Preset{Name: "run-node renewals", ClusterRoleBindings: []rbacv1.ClusterRoleBinding{{
		ObjectMeta: metav1.ObjectMeta{Name: "node-test-run-renewal"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "system:node:" + nodeName}},
	}}}
	if err := rbac.Apply(context.Background(), cp.Client(), renewals); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rbac.Revoke(context.Background(), cp.Client(), renewals) })
	tok, _ := newToken(t, time.Now().Add(time.Hour), approvedGroup)
	dir := t.TempDir()

	var renewedOnce atomic.Bool
	rotated := make(chan *x509.Certificate, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	agent, err := node.Start(ctx, node.RunOptions{
		Options: node.Options{
			Bootstrap:  cp.TokenConfig(tok.Reveal()),
			Kubeconfig: filepath.Join(dir, "kubelet.kubeconfig"),
			CertDir:    filepath.Join(dir, "pki"),
			NodeName:   nodeName,
		},
		Deadline: func(c *x509.Certificate) time.Time {
			if renewedOnce.CompareAndSwap(false, true) {
				return time.Now() // the first certificate, the bootstrap one: renew at once
			}
			return c.NotAfter // later ones: not within the test
		},
		OnRotated: func(kind rotate.CertificateKind, _, new *x509.Certificate) {
			if kind == rotate.KindClient {
				rotated <- new
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	first := agent.Result().Certificate
	var renewed *x509.Certificate
	select {
	case renewed = <-rotated:
	case <-ctx.Done():
		t.Fatalf("no renewal at the deadline; status %+v", agent.Client().Status())
	}
	if renewed.Equal(first) {
		t.Fatal("the renewal kept the bootstrap certificate")
	}
	now, err := agent.RenewNow(ctx, rotate.KindClient)
	if err != nil {
		t.Fatalf("RenewNow: %v", err)
	}
	if now.Equal(renewed) {
		t.Error("RenewNow returned the previous certificate")
	}
	if _, err := agent.RenewNow(ctx, rotate.KindServing); err == nil {
		t.Error("RenewNow of a serving certificate that is not kept: no error")
	}
	cancel()
	stopped := make(chan struct{})
	go func() { agent.Wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the agent did not stop after its context ended")
	}
}
