package approve_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/internal/csrtest"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
)

var cp *controlplane.ControlPlane

func TestMain(m *testing.M) { testenv.MainLazy(m, controlplane.Options{}, &cp) }

var uniq atomic.Int64

// unique makes names that do not collide across tests sharing the control plane.
func unique(prefix string) string { return fmt.Sprintf("%s-%d", prefix, uniq.Add(1)) }

// builtinRole is the ClusterRole Kubernetes ships for a kind; selfnodeserver has none, so
// tests make one (as the seed documents' approve-node-server-renewal-csr).
func builtinRole(t *testing.T, kind approve.Kind) string {
	t.Helper()
	if kind != approve.KindSelfNodeServer {
		return "system:certificates.k8s.io:certificatesigningrequests:" + string(kind)
	}
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: unique("approve-node-server-renewal-csr")},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"certificates.k8s.io"},
			Resources: []string{"certificatesigningrequests/selfnodeserver"}, Verbs: []string{"create"}}},
	}
	if _, err := cp.Client().RbacV1().ClusterRoles().Create(context.Background(), role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return role.Name
}

// bind binds a ClusterRole to a user.
func bind(t *testing.T, role, user string) { csrtest.BindClusterRole(t, cp, role, user) }

// grant binds the kind's ClusterRole to user and waits until the API server's RBAC
// authorizer (which reads bindings through an informer) allows it.
func grant(t *testing.T, user string, groups []string, kind approve.Kind) {
	t.Helper()
	bind(t, builtinRole(t, kind), user)
	waitFor(t, 10*time.Second, fmt.Sprintf("%s allowed to create certificatesigningrequests/%s", user, kind), func() bool {
		return sarAllows(t, user, groups, kind)
	})
}

func sarAllows(t *testing.T, user string, groups []string, kind approve.Kind) bool {
	return csrtest.Allowed(t, cp, user, groups, string(kind))
}

// bootstrapUser is a bootstrap-token-like identity allowed to create CSRs (as the kubeadm
// binding of system:node-bootstrapper does).
func bootstrapUser(t *testing.T) (user string, groups []string) {
	t.Helper()
	user = "system:bootstrap:" + unique("tok")
	bind(t, "system:node-bootstrapper", user)
	return user, []string{"system:bootstrappers"}
}

// clientAs is a client impersonating user: the API server records that identity in
// spec.username and spec.groups of the CSRs it creates.
func clientAs(t *testing.T, user string, groups ...string) kubernetes.Interface {
	return csrtest.ClientAs(t, cp, user, groups...)
}

// createCSR creates a CSR as the given client, retrying briefly while a fresh binding
// propagates to the RBAC authorizer.
func createCSR(t *testing.T, as kubernetes.Interface, signer string, usages []certificatesv1.KeyUsage, r request) *certificatesv1.CertificateSigningRequest {
	t.Helper()
	obj := &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: unique("csr")},
		Spec:       certificatesv1.CertificateSigningRequestSpec{Request: r.pem(t), SignerName: signer, Usages: usages},
	}
	return csrtest.CreateAs(t, as, obj)
}

func getCSR(t *testing.T, name string) *certificatesv1.CertificateSigningRequest {
	t.Helper()
	obj, err := cp.Client().CertificatesV1().CertificateSigningRequests().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

// condition returns the CSR's condition of type ct, or nil.
var condition = csr.Condition

func waitFor(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// createNode creates a Node with addresses in its status.
func createNode(t *testing.T, name string, addrs ...corev1.NodeAddress) {
	t.Helper()
	ctx := context.Background()
	node, err := cp.Client().CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	node.Status.Addresses = addrs
	if _, err := cp.Client().CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// startFacts runs ClusterFacts on the test API server until the test ends and waits for
// its first read.
func startFacts(t *testing.T) *approve.ClusterFacts {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	factory := informers.NewSharedInformerFactory(cp.Client(), 0)
	facts, err := approve.NewClusterFacts(cp.Client(), factory.Core().V1().Nodes().Informer())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = facts.Run(ctx) }()
	factory.Start(ctx.Done())
	t.Cleanup(func() { cancel(); <-done; factory.Shutdown() })
	waitFor(t, 20*time.Second, "the serving facts synced", facts.HasSynced)
	return facts
}

// waitForNodes waits until facts hold the named Nodes with their addresses.
func waitForNodes(t *testing.T, facts approve.ServingFacts, names ...string) {
	t.Helper()
	for _, name := range names {
		waitFor(t, 10*time.Second, "node "+name+" in the facts", func() bool {
			n, err := approve.FactNode(facts, context.Background(), name)
			return err == nil && len(n.Status.Addresses) > 0
		})
	}
}
