package approve

import (
	"context"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// claimKind is the kind of thing in the cluster that holds an address.
type claimKind string

// The claim kinds, and the rule each one triggers.
const (
	// claimNode: a Node lists the address (or, for a DNS SAN, is named so): RuleUniqueAddress
	// when it is another Node than the requester.
	claimNode claimKind = "Node"
	// claimPodCIDR: a Node's spec.podCIDRs contain the IP: RulePodAddress.
	claimPodCIDR claimKind = "PodCIDR"
	// claimServiceIP: a ClusterIP of the default/kubernetes Service: RuleServiceAddress.
	claimServiceIP claimKind = "ServiceIP"
	// claimServiceCIDR: a ServiceCIDR object's range contains the IP: RuleServiceAddress.
	claimServiceCIDR claimKind = "ServiceCIDR"
	// claimAPIServerEndpoint: an address of the default/kubernetes EndpointSlice:
	// RuleAPIServerAddress.
	claimAPIServerEndpoint claimKind = "APIServerEndpoint"
	// claimAPIServerCertificate: a name or IP of the API server's serving certificate:
	// RuleAPIServerAddress.
	claimAPIServerCertificate claimKind = "APIServerCertificate"
)

// addrClaim says that something in the cluster holds an address.
type addrClaim struct {
	Kind claimKind
	// Name is the holder: a Node's name, a ServiceCIDR's name, the range, or the
	// certificate's subject.
	Name string
	// Detail, when set, says more (a Pod CIDR's range, a ServiceCIDR's range).
	Detail string
}

func (c addrClaim) String() string {
	s := string(c.Kind) + " " + quote(c.Name)
	if c.Detail != "" {
		s += " (" + c.Detail + ")"
	}
	return s
}

func quote(s string) string { return `"` + s + `"` }

// ServingFacts is what serving approval reads about the cluster: the requesting Node, and
// who else holds each requested address. NewClusterFacts is the informer-backed one a
// controller uses; StaticFacts serves tests and dry runs. Its methods are unexported: the
// serving rules are only as sound as these facts, so the two implementations here are the
// ones there are.
type ServingFacts interface {
	// getNode returns the named Node; apierrors.IsNotFound is true of the error when it
	// does not exist (yet).
	getNode(ctx context.Context, name string) (*corev1.Node, error)
	// claims lists what in the cluster holds san: Nodes listing it (the requester
	// included), Pod CIDRs and Service ranges containing it, the API server's endpoints
	// and certificate. Configured ranges (ServingPolicy) are not facts: the approver adds
	// them.
	claims(san csr.SAN) []addrClaim
}

// StaticFacts are ServingFacts from fixed values, for tests, dry runs and tools that
// decide offline. Lookups scan; NewClusterFacts indexes.
type StaticFacts struct {
	Nodes []*corev1.Node
	// KubernetesServiceIPs are the default/kubernetes Service's ClusterIPs.
	KubernetesServiceIPs []netip.Addr
	// ServiceCIDRs are the ServiceCIDR objects' ranges.
	ServiceCIDRs []netip.Prefix
	// APIServerIPs are the default/kubernetes EndpointSlice's addresses.
	APIServerIPs []netip.Addr
	// APIServerCertificateSANs are the DNS names and IPs of the API server's certificate.
	APIServerCertificateSANs []csr.SAN
}

var nodeResource = schema.GroupResource{Resource: "nodes"}

// getNode returns the Node of that name from s.Nodes.
func (s *StaticFacts) getNode(_ context.Context, name string) (*corev1.Node, error) {
	for _, n := range s.Nodes {
		if n.Name == name {
			return n, nil
		}
	}
	return nil, errNodeNotFound(name)
}

func errNodeNotFound(name string) error { return apierrors.NewNotFound(nodeResource, name) }

// claims scans s for what holds san.
func (s *StaticFacts) claims(san csr.SAN) []addrClaim {
	var out []addrClaim
	key := sanKey(san)
	for _, n := range s.Nodes {
		for _, k := range nodeSANKeys(n) {
			if k == key {
				out = append(out, addrClaim{Kind: claimNode, Name: n.Name})
				break
			}
		}
	}
	for _, c := range s.APIServerCertificateSANs {
		if c == san {
			out = append(out, addrClaim{Kind: claimAPIServerCertificate, Name: "kube-apiserver"})
		}
	}
	addr, isIP := san.Addr()
	if !isIP {
		return out
	}
	for _, n := range s.Nodes {
		for _, p := range nodePodCIDRs(n) {
			if p.Contains(addr) {
				out = append(out, addrClaim{Kind: claimPodCIDR, Name: n.Name, Detail: p.String()})
			}
		}
	}
	out = append(out, addrClaims(addr, s.KubernetesServiceIPs, claimServiceIP, "default/kubernetes")...)
	for _, p := range s.ServiceCIDRs {
		if p.Contains(addr) {
			out = append(out, addrClaim{Kind: claimServiceCIDR, Name: p.String()})
		}
	}
	return append(out, addrClaims(addr, s.APIServerIPs, claimAPIServerEndpoint, "default/kubernetes")...)
}

func addrClaims(addr netip.Addr, held []netip.Addr, kind claimKind, name string) []addrClaim {
	for _, h := range held {
		if h.Unmap() == addr {
			return []addrClaim{{Kind: kind, Name: name}}
		}
	}
	return nil
}

// sanKey is a SAN as an index key.
func sanKey(s csr.SAN) string { return string(s.Type) + ":" + s.Value }

// nodeSANKeys are the index keys of what a Node holds: its addresses under the kubelet's
// mapping, and its name as a DNS name (a DNS SAN naming another Node is that Node's).
func nodeSANKeys(n *corev1.Node) []string {
	own := csr.NodeSANs(n.Status.Addresses)
	keys := make([]string, 0, len(own)+1)
	for s := range own {
		keys = append(keys, sanKey(s))
	}
	if n.Name != "" {
		if name := csr.DNSSAN(n.Name); !own[name] {
			keys = append(keys, sanKey(name))
		}
	}
	return keys
}

// nodePodCIDRs parses a Node's spec.podCIDRs (and spec.podCIDR; the API server
// validates both), skipping what does not parse.
func nodePodCIDRs(n *corev1.Node) []netip.Prefix {
	var out []netip.Prefix
	for _, c := range append([]string{n.Spec.PodCIDR}, n.Spec.PodCIDRs...) {
		if c == "" {
			continue
		}
		if p, err := netip.ParsePrefix(c); err == nil && !containsPrefix(out, p.Masked()) {
			out = append(out, p.Masked())
		}
	}
	return out
}

func containsPrefix(list []netip.Prefix, p netip.Prefix) bool {
	for _, q := range list {
		if q == p {
			return true
		}
	}
	return false
}

// podCIDRKey is a Pod CIDR as an index key.
func podCIDRKey(p netip.Prefix) string { return "podcidr:" + p.Masked().String() }

// isControlPlane reports whether a Node carries the control-plane role label, which
// NodeRestriction keeps a kubelet from setting on its own Node.
func isControlPlane(n *corev1.Node) bool {
	_, ok := n.Labels[controlPlaneLabel]
	return ok
}

// controlPlaneLabel marks a control-plane Node (kubeadm sets it); such a Node's kubelet
// may have the API server's addresses in its serving certificate.
const controlPlaneLabel = "node-role.kubernetes.io/control-plane"
