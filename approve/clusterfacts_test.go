package approve_test

import (
	"context"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

func ipSAN(t testing.TB, s string) csr.SAN {
	t.Helper()
	san, ok := csr.IPSAN(net.ParseIP(s))
	if !ok {
		t.Fatalf("bad IP %q", s)
	}
	return san
}

func claimKinds(claims []approve.Claim) []approve.ClaimKind {
	var out []approve.ClaimKind
	for _, c := range claims {
		out = append(out, c.Kind)
	}
	return out
}

// TestClusterFacts: the watches and the index answer who holds an address on a real API
// server: a Node's addresses (any spelling) and name, its Pod CIDR, the kubernetes
// Service, the ServiceCIDR, the API server's EndpointSlice and certificate; and a Node is
// cached without what the rules do not read.
func TestClusterFacts(t *testing.T) {
	testenv.Need(t)
	ctx := context.Background()
	facts := startFacts(t)
	node, err := cp.Client().CoreV1().Nodes().Create(ctx, &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "facts-node", Labels: map[string]string{"team": "a"}},
		Spec:       corev1.NodeSpec{PodCIDR: "10.244.7.0/24", PodCIDRs: []string{"10.244.7.0/24", "fd00:7::/64"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	node.Status.Addresses = []corev1.NodeAddress{
		{Type: corev1.NodeHostName, Address: "Facts-Host"},
		{Type: corev1.NodeInternalIP, Address: "192.000.002.041"},
		{Type: corev1.NodeExternalIP, Address: "2001:DB8::41"},
	}
	node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	if _, err := cp.Client().CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitForNodes(t, facts, "facts-node")
	cached, err := approve.FactNode(facts, ctx, "facts-node")
	if err != nil {
		t.Fatal(err)
	}
	if len(cached.Status.Conditions) != 0 || len(cached.ManagedFields) != 0 || cached.Labels["team"] != "a" || len(cached.Spec.PodCIDRs) != 2 {
		t.Errorf("cached Node keeps what it should drop or drops what it should keep: %+v", cached)
	}

	var svcIP string
	waitFor(t, 20*time.Second, "the kubernetes Service and EndpointSlice", func() bool {
		svc, err := cp.Client().CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{})
		if err != nil {
			return false
		}
		svcIP = svc.Spec.ClusterIP
		return slices.Contains(claimKinds(approve.FactClaims(facts, ipSAN(t, svcIP))), approve.ClaimServiceIP)
	})
	slice, err := cp.Client().DiscoveryV1().EndpointSlices("default").Get(ctx, "kubernetes", metav1.GetOptions{})
	if err != nil || len(slice.Endpoints) == 0 || len(slice.Endpoints[0].Addresses) == 0 {
		t.Fatalf("the API server's EndpointSlice: %v %+v", err, slice)
	}
	apiIP := slice.Endpoints[0].Addresses[0]
	for _, tc := range []struct {
		san  csr.SAN
		want []approve.ClaimKind
	}{
		{ipSAN(t, "192.0.2.41"), []approve.ClaimKind{approve.ClaimNode}},
		{ipSAN(t, "::ffff:192.0.2.41"), []approve.ClaimKind{approve.ClaimNode}},
		{ipSAN(t, "2001:db8::41"), []approve.ClaimKind{approve.ClaimNode}},
		{csr.DNSSAN("facts-host"), []approve.ClaimKind{approve.ClaimNode}},
		{csr.DNSSAN("FACTS-NODE"), []approve.ClaimKind{approve.ClaimNode}},
		{ipSAN(t, "10.244.7.200"), []approve.ClaimKind{approve.ClaimPodCIDR}},
		{ipSAN(t, "fd00:7::9"), []approve.ClaimKind{approve.ClaimPodCIDR}},
		{ipSAN(t, svcIP), []approve.ClaimKind{approve.ClaimServiceIP, approve.ClaimServiceCIDR}},
		{ipSAN(t, apiIP), []approve.ClaimKind{approve.ClaimAPIServerEndpoint}},
		{ipSAN(t, "127.0.0.1"), []approve.ClaimKind{approve.ClaimAPIServerCertificate}}, // the URL the client dials
		{csr.DNSSAN("localhost"), []approve.ClaimKind{approve.ClaimAPIServerCertificate}},
		{ipSAN(t, "192.0.2.42"), nil},
	} {
		var got []approve.ClaimKind
		waitFor(t, 10*time.Second, fmt.Sprintf("claims on %v to be %v", tc.san, tc.want), func() bool {
			got = claimKinds(approve.FactClaims(facts, tc.san))
			return slices.Equal(got, tc.want)
		})
	}
}

// BenchmarkClaims: who holds an address among 10,000 Nodes is a lookup in the index.
func BenchmarkClaims(b *testing.B) {
	factory := informers.NewSharedInformerFactory(fake.NewClientset(), 0)
	nodes := factory.Core().V1().Nodes().Informer()
	facts, err := approve.NewClusterFacts(fake.NewClientset(), nodes)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 10000 {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("node-%d", i)},
			Spec: corev1.NodeSpec{PodCIDRs: []string{fmt.Sprintf("10.%d.%d.0/24", 100+i/256, i%256)}},
			Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeHostName, Address: fmt.Sprintf("node-%d", i)},
				{Type: corev1.NodeInternalIP, Address: fmt.Sprintf("172.16.%d.%d", i/256, i%256)},
			}}}
		if err := nodes.GetIndexer().Add(n); err != nil {
			b.Fatal(err)
		}
	}
	ip, dns := ipSAN(b, "172.16.20.5"), csr.DNSSAN("node-5125")
	b.ResetTimer()
	for b.Loop() {
		if len(approve.FactClaims(facts, ip)) != 1 || len(approve.FactClaims(facts, dns)) != 1 {
			b.Fatal("wrong claims")
		}
	}
}
