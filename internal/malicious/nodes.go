package malicious

import (
	"fmt"
	"hash/fnv"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// NodeSpec is a Node that Run creates (as the admin, status included) before it submits
// any CSR, and deletes when the run ends.
type NodeSpec struct {
	Name string
	// Addresses are status.addresses exactly as written (odd spellings included): what
	// the node's kubelet reported, or what an attacker listed, as NodeRestriction lets a
	// node write its own status.
	Addresses []corev1.NodeAddress
	// PodCIDRs is spec.podCIDRs (set by the admin, as the node IPAM controller would).
	PodCIDRs []string
}

// CorpusNodeLabel marks the Nodes a run creates (value "true"), so that Nodes left by an
// interrupted run can be found: kubectl delete nodes -l malicious.tlsbootstrap.io/corpus.
const CorpusNodeLabel = "malicious.tlsbootstrap.io/corpus"

// object is the Node to create.
func (n NodeSpec) object() *corev1.Node {
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: map[string]string{CorpusNodeLabel: "true"}},
		Status:     corev1.NodeStatus{Addresses: append([]corev1.NodeAddress(nil), n.Addresses...)},
	}
	if len(n.PodCIDRs) > 0 {
		node.Spec.PodCIDR = n.PodCIDRs[0]
		node.Spec.PodCIDRs = append([]string(nil), n.PodCIDRs...)
	}
	return node
}

// sans is what the Node holds in the form serving approval compares: its addresses under
// the kubelet's mapping, and its name as a DNS name.
func (n NodeSpec) sans() map[csr.SAN]bool {
	set := csr.NodeSANs(n.Addresses)
	set[csr.DNSSAN(n.Name)] = true
	return set
}

// kubeletServing is the serving request the node's kubelet makes: its CN and group, and
// the SANs csr.NodeAddressSANs maps its status.addresses to (the kubelet's own mapping, so
// an attacker's listed addresses are requested as a real kubelet would request them).
func (n NodeSpec) kubeletServing() spec {
	dns, ips := csr.NodeAddressSANs(n.Addresses)
	return spec{cn: "system:node:" + n.Name, orgs: nodesOrg, dns: dns, netIPs: ips}
}

// firstIP is the Node's first InternalIP as written.
func (n NodeSpec) firstIP() string {
	for _, a := range n.Addresses {
		if a.Type == corev1.NodeInternalIP {
			return a.Address
		}
	}
	panic(fmt.Sprintf("malicious: node %s has no InternalIP", n.Name)) // corpus construction bug
}

func addr(t corev1.NodeAddressType, v string) corev1.NodeAddress {
	return corev1.NodeAddress{Type: t, Address: v}
}

func hostname(v string) corev1.NodeAddress    { return addr(corev1.NodeHostName, v) }
func internalIP(v string) corev1.NodeAddress  { return addr(corev1.NodeInternalIP, v) }
func externalIP(v string) corev1.NodeAddress  { return addr(corev1.NodeExternalIP, v) }
func internalDNS(v string) corev1.NodeAddress { return addr(corev1.NodeInternalDNS, v) }
func externalDNS(v string) corev1.NodeAddress { return addr(corev1.NodeExternalDNS, v) }

// addrPlan hands out the corpus Nodes' addresses from the documentation ranges, each
// once per run, in the order the corpus is built (so a corpus is the same every time):
//
//   - IPv4 Node addresses: 192.0.2.1-254, then 198.51.100.1-254;
//   - IPv6 Node addresses: 2001:db8:<h>::<n>, h a 16-bit hash of the run's prefix (runs with
//     other prefixes use other /48s);
//   - Pod CIDRs: 203.0.113.0/24 in /28s and 2001:db8:ffff:<n>::/64, ranges no Node
//     address is taken from.
//
// IPv4 addresses repeat across runs: Run deletes its Nodes when it ends and refuses to
// start when a Node already in the cluster holds an address one of its legitimate Nodes
// needs.
//
// Addresses in skip (the API server's) are never handed out.
type addrPlan struct {
	v4s, v6s, pod4s, pod6s int
	v6Net                  uint16
	skip                   map[netip.Addr]bool
	err                    error
}

func newAddrPlan(prefix string, skip []string) *addrPlan {
	h := fnv.New32a()
	_, _ = h.Write([]byte(prefix))
	// 0 and 0xffff are left out: the first is easy to pick by hand, the second holds Pod CIDRs.
	p := &addrPlan{v6Net: uint16(h.Sum32()%0xfffe) + 1, skip: map[netip.Addr]bool{}}
	for _, s := range skip {
		if a, err := netip.ParseAddr(s); err == nil {
			p.skip[a.Unmap()] = true
		}
	}
	return p
}

// skipped reports whether ip may not be handed out.
func (p *addrPlan) skipped(ip string) bool { return p.skip[netip.MustParseAddr(ip).Unmap()] }

func (p *addrPlan) fail(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf(format, args...)
	}
}

// v4 is the next IPv4 Node address.
func (p *addrPlan) v4() string {
	for {
		p.v4s++
		var ip string
		switch n := p.v4s; {
		case n <= 254:
			ip = fmt.Sprintf("192.0.2.%d", n)
		case n <= 508:
			ip = fmt.Sprintf("198.51.100.%d", n-254)
		default:
			p.fail("the corpus needs more than 508 IPv4 Node addresses")
			return "192.0.2.255"
		}
		if !p.skipped(ip) {
			return ip
		}
	}
}

// v6 is the next IPv6 Node address, in canonical form.
func (p *addrPlan) v6() string {
	for {
		p.v6s++
		if ip := fmt.Sprintf("2001:db8:%x::%x", p.v6Net, p.v6s); !p.skipped(ip) {
			return ip
		}
	}
}

// podCIDR4 is the next IPv4 Pod CIDR (a /28) and an address inside it.
func (p *addrPlan) podCIDR4() (cidr, inside string) {
	n := p.pod4s
	p.pod4s++
	if n >= 16 {
		p.fail("the corpus needs more than 16 IPv4 Pod CIDRs")
	}
	return fmt.Sprintf("203.0.113.%d/28", n*16), fmt.Sprintf("203.0.113.%d", n*16+5)
}

// podCIDR6 is the next IPv6 Pod CIDR (a /64) and an address inside it.
func (p *addrPlan) podCIDR6() (cidr, inside string) {
	p.pod6s++
	return fmt.Sprintf("2001:db8:ffff:%x::/64", p.pod6s), fmt.Sprintf("2001:db8:ffff:%x::a:5", p.pod6s)
}

// leadingZeros writes an IPv4 address with every octet in three digits (192.000.002.077),
// which the kubelet's sloppy parser reads as decimal.
func leadingZeros(ip string) string {
	a := netip.MustParseAddr(ip).As4()
	return fmt.Sprintf("%03d.%03d.%03d.%03d", a[0], a[1], a[2], a[3])
}

// longIPv6 writes an IPv6 address in full, upper case, with leading zeros
// (2001:0DB8:1A2B:0000:0000:0000:0000:007A).
func longIPv6(ip string) string {
	a := netip.MustParseAddr(ip).As16()
	groups := make([]string, 8)
	for i := range groups {
		groups[i] = fmt.Sprintf("%02X%02X", a[2*i], a[2*i+1])
	}
	return strings.Join(groups, ":")
}

// nthAddr is the address n after the first of prefix, or "" when prefix does not hold it.
func nthAddr(prefix string, n int) string {
	p, err := netip.ParsePrefix(prefix)
	if err != nil {
		return ""
	}
	a := p.Masked().Addr()
	for i := 0; i < n; i++ {
		a = a.Next()
	}
	if !a.IsValid() || !p.Contains(a) {
		return ""
	}
	return a.String()
}
