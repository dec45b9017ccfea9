package approve_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	netutils "k8s.io/utils/net"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// Flags of FuzzServingPolicy's flags byte.
const (
	fuzzAudit              = 1 << iota // decide under DefaultMode Audit (else Enforce)
	fuzzControlPlane                   // the requesting Node has the control-plane label
	fuzzPodCIDROnRequester             // the requesting Node has the Pod CIDR too
	fuzzAPIServerIPInCert              // the API server's IP is also a certificate SAN
	fuzzOtherControlPlane              // the second Node has the control-plane label
)

// FuzzServingPolicy: a kubelet serving CSR from a Node whose status.addresses are fuzzed
// (any type, any spelling, invalid ones included), with another Node, Service and API
// server addresses around it, is decided without a panic or an error, under DefaultMode
// Enforce or Audit, by an Authorizer that allows everything; and
//
//   - an approval is of a serving CSR whose every DNS and IP SAN (csr.RequestSANs) is in
//     csr.NodeSANs of the Node's addresses (the base rule, in both modes);
//   - in Enforce mode an approved request holds no SAN the second Node lists or is named,
//     no loopback, link-local, unspecified or multicast IP, no kubernetes Service IP or IP
//     in a ServiceCIDR, no IP in a Node's Pod CIDR, none of the API server's addresses or
//     certificate names unless the Node is control plane, and only lower-case DNS-1123
//     names that are not wildcards nor reserved;
//   - a denial is AutoDenied and names its rule; in Audit mode only the base rule denies;
//   - the modes agree: Enforce approves only what Audit approves, and Audit approves without
//     findings only what Enforce approves.
//
// Addresses are written "T:value;T:value" with T one of H (Hostname), I (InternalIP), E
// (ExternalIP), D (InternalDNS), X (ExternalDNS), any other letter an invalid type; SANs
// are comma-separated, each IP parsed sloppily (leading zeros) or, failing that, taken as
// raw bytes when 4 or 16 long.
func FuzzServingPolicy(f *testing.F) {
	type seed struct {
		name, addrs, otherName, otherAddrs, dns, ips, svcIP, svcCIDR, apiIP, apiName, podCIDR string
		flags                                                                                 uint8
	}
	for _, s := range []seed{
		// A kubelet's own addresses: approved.
		{"node-a", "H:node-a;I:192.0.2.10;I:2001:db8::a", "node-b", "H:node-b;I:192.0.2.11", "node-a", "192.0.2.10,2001:db8::a", "10.96.0.1", "10.96.0.0/12", "192.0.2.1", "localhost", "10.244.1.0/24", 0},
		// Odd spellings of its own addresses: an IP Hostname, leading zeros, IPv4-mapped, upper case.
		{"node-a", "H:192.000.002.010;E:::ffff:192.0.2.12;D:Node-A.Example.com;I:2001:DB8:0:0::7a", "node-b", "H:node-b", "Node-A.Example.com", "192.0.2.10,192.0.2.12,2001:db8::7a", "10.96.0.1", "10.96.0.0/12", "192.0.2.1", "localhost", "", fuzzAudit},
		// Another Node's IP, name and hostname, listed by the attacker first.
		{"node-a", "H:node-a;I:192.0.2.11;D:node-b;X:b.example.com", "node-b", "H:b.example.com;I:192.0.2.11", "node-a,node-b,b.example.com", "192.0.2.11", "10.96.0.1", "", "", "", "", 0},
		{"node-a", "H:node-a;E:::ffff:192.0.2.11", "node-b", "I:192.000.002.011", "node-a", "192.0.2.11", "", "", "", "", "", fuzzAudit},
		// Service, Pod, API server and special addresses; reserved names.
		{"node-a", "H:node-a;I:10.96.0.1;I:10.96.7.7;I:10.244.1.5;I:127.0.0.1;I:169.254.169.254;I:0.0.0.0;I:224.0.0.1;I:::1", "node-b", "H:node-b", "", "10.96.0.1,10.96.7.7,10.244.1.5,127.0.0.1,169.254.169.254,0.0.0.0,224.0.0.1,::1", "10.96.0.1", "10.96.0.0/12", "192.0.2.1", "localhost", "10.244.1.0/24", 0},
		{"node-a", "H:node-a;D:*.example.com;D:localhost;D:foo.localhost;D:kubernetes.default.svc.cluster.local;D:bad_name", "node-b", "", "*.example.com,localhost,foo.localhost,kubernetes.default.svc.cluster.local,bad_name", "", "", "", "", "kube-apiserver.example", "", 0},
		// The API server's address on a control-plane Node and on a worker.
		{"cp-1", "H:cp-1;I:192.0.2.1;D:kube-apiserver.example", "node-b", "H:node-b", "cp-1,kube-apiserver.example", "192.0.2.1", "", "", "192.0.2.1", "kube-apiserver.example", "", fuzzControlPlane | fuzzAPIServerIPInCert},
		{"worker", "H:worker;I:192.0.2.1", "cp-1", "H:cp-1", "worker", "192.0.2.1", "", "", "192.0.2.1", "", "", fuzzOtherControlPlane},
		// Invalid address types and values, raw IP bytes, an empty name.
		{"", "Z:1.2.3.4;I:not-an-ip;H:;:", "", ";;", ",,", "\x7f\x00\x00\x01,\xc0\x00\x02\x0a", "bogus", "10.0.0.0/33", "::ffff:127.0.0.1", "", "nope", fuzzPodCIDROnRequester},
	} {
		f.Add(s.name, s.addrs, s.otherName, s.otherAddrs, s.dns, s.ips, s.svcIP, s.svcCIDR, s.apiIP, s.apiName, s.podCIDR, s.flags)
	}
	f.Fuzz(func(t *testing.T, name, addrs, otherName, otherAddrs, dns, ips, svcIP, svcCIDR, apiIP, apiName, podCIDR string, flags uint8) {
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{Addresses: fuzzAddresses(addrs)}}
		if otherName == name || otherName == "" {
			otherName += "-other" // two Nodes of one name cannot exist
		}
		other := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: otherName}, Status: corev1.NodeStatus{Addresses: fuzzAddresses(otherAddrs)}}
		if podCIDR != "" {
			other.Spec.PodCIDRs = []string{podCIDR}
			if flags&fuzzPodCIDROnRequester != 0 {
				node.Spec.PodCIDRs = []string{podCIDR}
			}
		}
		if flags&fuzzControlPlane != 0 {
			node.Labels = map[string]string{approve.ControlPlaneLabel: ""}
		}
		if flags&fuzzOtherControlPlane != 0 {
			other.Labels = map[string]string{approve.ControlPlaneLabel: ""}
		}
		facts := &approve.StaticFacts{Nodes: []*corev1.Node{node, other}}
		if a, err := netip.ParseAddr(svcIP); err == nil {
			facts.KubernetesServiceIPs = []netip.Addr{a}
		}
		if p, err := netip.ParsePrefix(svcCIDR); err == nil {
			facts.ServiceCIDRs = []netip.Prefix{p}
		}
		if a, err := netip.ParseAddr(apiIP); err == nil {
			facts.APIServerIPs = []netip.Addr{a}
			if flags&fuzzAPIServerIPInCert != 0 {
				if s, ok := csr.IPSAN(net.IP(a.AsSlice())); ok {
					facts.APIServerCertificateSANs = append(facts.APIServerCertificateSANs, s)
				}
			}
		}
		if apiName != "" {
			facts.APIServerCertificateSANs = append(facts.APIServerCertificateSANs, csr.DNSSAN(apiName))
		}

		der, ok := fuzzServingRequest(t, name, fuzzSplit(dns), fuzzIPs(ips))
		if !ok {
			return // crypto/x509 refuses to encode it (a non-ASCII DNS name)
		}
		req, err := x509.ParseCertificateRequest(der)
		if err != nil {
			return
		}
		obj := csrObject("fuzz", kubeletServingSigner, "system:node:"+name, servingUsages,
			pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))

		mode, otherMode := approve.ModeEnforce, approve.ModeAudit
		if flags&fuzzAudit != 0 {
			mode, otherMode = otherMode, mode
		}
		decisions := map[approve.RuleMode]approve.Decision{}
		for _, m := range []approve.RuleMode{mode, otherMode} {
			a, err := approve.NewApprover(approve.Options{Authorizer: fuzzAllowAll, Serving: &approve.ServingOptions{
				Policy: approve.ServingPolicy{DefaultMode: m}, Facts: facts}})
			if err != nil {
				t.Fatal(err)
			}
			d, err := a.Decide(context.Background(), obj)
			if err != nil {
				t.Fatalf("%s: Decide: %v", m, err)
			}
			decisions[m] = d
			fuzzCheckServing(t, m, d, node, other, facts, req)
		}
		enforce, audit := decisions[approve.ModeEnforce], decisions[approve.ModeAudit]
		if enforce.Action == approve.ActionApprove && audit.Action != approve.ActionApprove {
			t.Fatalf("Enforce approves (%s) what Audit does not: %s", enforce, audit)
		}
		if audit.Action == approve.ActionApprove && len(audit.Audit) == 0 && enforce.Action != approve.ActionApprove {
			t.Fatalf("Audit approves without a finding what Enforce does not: %s", enforce)
		}
		if audit.Action == approve.ActionApprove && len(audit.Audit) > 0 && enforce.Action != approve.ActionDeny {
			t.Fatalf("Audit finds %s but Enforce does not deny: %s", audit.Audit[0], enforce)
		}
	})
}

// fuzzCheckServing checks one decision on the fuzzed request against the properties
// of FuzzServingPolicy.
func fuzzCheckServing(t *testing.T, mode approve.RuleMode, d approve.Decision, node, other *corev1.Node, facts *approve.StaticFacts, req *x509.CertificateRequest) {
	t.Helper()
	switch d.Action {
	case approve.ActionDeny:
		var v *approve.ServingViolation
		if d.Reason != approve.ReasonAutoDenied || !errors.As(d.Cause, &v) || !strings.Contains(d.Message, "(rule "+string(v.Rule)+")") {
			t.Fatalf("%s: a denial that is not AutoDenied naming its rule: %+v", mode, d)
		}
		if mode == approve.ModeAudit && v.Rule != approve.RuleOwnAddresses {
			t.Fatalf("Audit mode denied by rule %s: %s", v.Rule, d.Message)
		}
		return
	case approve.ActionApprove:
	default:
		return
	}
	if d.Kind != approve.KindSelfNodeServer {
		t.Fatalf("%s: approved a kubelet serving CSR as %s", mode, d.Kind)
	}
	sans := csr.RequestSANs(req.DNSNames, req.IPAddresses)
	own := csr.NodeSANs(node.Status.Addresses)
	for _, san := range sans {
		if !own[san] {
			t.Fatalf("%s: approved %s, not among the addresses %v of node %q", mode, san, node.Status.Addresses, node.Name)
		}
	}
	if mode != approve.ModeEnforce {
		return
	}
	otherHolds := csr.NodeSANs(other.Status.Addresses)
	otherHolds[csr.DNSSAN(other.Name)] = true
	_, controlPlane := node.Labels[approve.ControlPlaneLabel]
	var podCIDRs []netip.Prefix
	for _, n := range []*corev1.Node{node, other} {
		for _, c := range n.Spec.PodCIDRs {
			if p, err := netip.ParsePrefix(c); err == nil {
				podCIDRs = append(podCIDRs, p.Masked())
			}
		}
	}
	for _, san := range sans {
		fail := func(why string) { t.Helper(); t.Fatalf("Enforce: approved %s, %s: %s", san, why, d) }
		if otherHolds[san] {
			fail("which node " + other.Name + " lists or is named")
		}
		for _, c := range facts.APIServerCertificateSANs {
			if c == san && !controlPlane {
				fail("a name of the API server's certificate, for a node that is not control plane")
			}
		}
		if addr, isIP := san.Addr(); isIP {
			addr = addr.Unmap()
			for _, special := range []func(netip.Addr) bool{netip.Addr.IsLoopback, netip.Addr.IsLinkLocalUnicast,
				netip.Addr.IsLinkLocalMulticast, netip.Addr.IsInterfaceLocalMulticast, netip.Addr.IsMulticast, netip.Addr.IsUnspecified} {
				if special(addr) {
					fail("a loopback, link-local, unspecified or multicast address")
				}
			}
			for _, s := range facts.KubernetesServiceIPs {
				if s.Unmap() == addr {
					fail("the kubernetes Service IP")
				}
			}
			for _, p := range facts.ServiceCIDRs {
				if p.Contains(addr) {
					fail("in the ServiceCIDR " + p.String())
				}
			}
			for _, p := range podCIDRs {
				if p.Contains(addr) {
					fail("in the Pod CIDR " + p.String())
				}
			}
			for _, a := range facts.APIServerIPs {
				if a.Unmap() == addr && !controlPlane {
					fail("the API server's address, for a node that is not control plane")
				}
			}
			continue
		}
		name := san.Value
		switch {
		case strings.Contains(name, "*"), name == "localhost", strings.HasSuffix(name, ".localhost"), name == "kubernetes",
			name == "kubernetes.default", name == "kubernetes.default.svc", name == "kubernetes.default.svc."+approve.DefaultClusterDomain:
			fail("a wildcard or a name no node may hold")
		case len(validation.IsDNS1123Subdomain(name)) > 0:
			fail("not a DNS-1123 subdomain")
		}
	}
}

// fuzzAllowAll authorizes every requester for every kind.
var fuzzAllowAll = approve.AuthorizerFunc(func(context.Context, *certificatesv1.CertificateSigningRequest, approve.Kind) (bool, string, error) {
	return true, "", nil
})

// fuzzKey signs every fuzzed request: a key per execution would spend the fuzzer's time in
// key generation.
var fuzzKey = sync.OnceValue(func() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
})

// fuzzServingRequest is the DER of a kubelet serving request for node with these SANs;
// ok is false when crypto/x509 will not encode them.
func fuzzServingRequest(t *testing.T, node string, dns []string, ips []net.IP) (der []byte, ok bool) {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:     pkix.Name{CommonName: "system:node:" + node, Organization: []string{"system:nodes"}},
		DNSNames:    dns,
		IPAddresses: ips,
	}, fuzzKey())
	return der, err == nil
}

// fuzzAddresses parses "T:value;T:value" (see FuzzServingPolicy).
func fuzzAddresses(s string) []corev1.NodeAddress {
	if s == "" {
		return nil
	}
	types := map[byte]corev1.NodeAddressType{'H': corev1.NodeHostName, 'I': corev1.NodeInternalIP, 'E': corev1.NodeExternalIP,
		'D': corev1.NodeInternalDNS, 'X': corev1.NodeExternalDNS}
	var out []corev1.NodeAddress
	for _, item := range strings.Split(s, ";") {
		typ, value, found := strings.Cut(item, ":")
		a := corev1.NodeAddress{Type: corev1.NodeHostName, Address: item}
		if found && len(typ) == 1 {
			a.Address = value
			if t, ok := types[typ[0]]; ok {
				a.Type = t
			} else {
				a.Type = corev1.NodeAddressType(typ)
			}
		}
		out = append(out, a)
	}
	return out
}

// fuzzIPs parses a comma-separated list of IPs sloppily, taking an item that does not
// parse as raw bytes when it is 4 or 16 long.
func fuzzIPs(s string) []net.IP {
	var out []net.IP
	for _, item := range fuzzSplit(s) {
		if ip := netutils.ParseIPSloppy(item); ip != nil {
			out = append(out, ip)
		} else if len(item) == net.IPv4len || len(item) == net.IPv6len {
			out = append(out, net.IP(item))
		}
	}
	return out
}

func fuzzSplit(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
