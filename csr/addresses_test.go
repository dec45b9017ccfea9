package csr_test

import (
	"net"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

func addrs(pairs ...string) []corev1.NodeAddress {
	var out []corev1.NodeAddress
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, corev1.NodeAddress{Type: corev1.NodeAddressType(pairs[i]), Address: pairs[i+1]})
	}
	return out
}

func ipStrings(ips []net.IP) []string {
	var out []string
	for _, ip := range ips {
		out = append(out, ip.String())
	}
	return out
}

// TestNodeAddressSANs: the kubelet's mapping, with upstream's own cases (empty, empty
// values, invalid IPs, dedupe, order, IP and DNS hostnames) and the address shapes real
// Nodes have.
func TestNodeAddressSANs(t *testing.T) {
	const (
		host, ipH, inIP, exIP, inDNS, exDNS = "Hostname", "Hostname", "InternalIP", "ExternalIP", "InternalDNS", "ExternalDNS"
	)
	for _, tc := range []struct {
		name    string
		in      []corev1.NodeAddress
		wantDNS []string
		wantIPs []string
	}{
		{name: "empty"},
		{name: "empty values skipped", in: addrs(host, "")},
		{name: "invalid IPs dropped", in: addrs(inIP, "1.2", exIP, "3.4")},
		{name: "dedupe", in: addrs(host, "hostname", exDNS, "hostname", inDNS, "hostname", inIP, "1.1.1.1", exIP, "1.1.1.1"),
			wantDNS: []string{"hostname"}, wantIPs: []string{"1.1.1.1"}},
		{name: "order", in: addrs(host, "hostname-2", exDNS, "hostname-1", inDNS, "hostname-3", inIP, "2.2.2.2", exIP, "1.1.1.1", inIP, "3.3.3.3"),
			wantDNS: []string{"hostname-1", "hostname-2", "hostname-3"}, wantIPs: []string{"1.1.1.1", "2.2.2.2", "3.3.3.3"}},
		{name: "IP and DNS hostnames", in: addrs(host, "hostname", ipH, "1.1.1.1"),
			wantDNS: []string{"hostname"}, wantIPs: []string{"1.1.1.1"}},
		{name: "hostname and IPv4", in: addrs(inIP, "192.0.2.10", host, "node-a"),
			wantDNS: []string{"node-a"}, wantIPs: []string{"192.0.2.10"}},
		{name: "IPv6 only", in: addrs(inIP, "2001:db8::10"),
			wantIPs: []string{"2001:db8::10"}},
		{name: "dual stack", in: addrs(inIP, "192.0.2.11", inIP, "2001:db8::11", host, "node-b"),
			wantDNS: []string{"node-b"}, wantIPs: []string{"192.0.2.11", "2001:db8::11"}},
		{name: "internal and external DNS and IP", in: addrs(inIP, "192.0.2.12", exIP, "203.0.113.12", inDNS, "node-c.internal.example.com", exDNS, "node-c.example.com", host, "node-c"),
			wantDNS: []string{"node-c", "node-c.example.com", "node-c.internal.example.com"}, wantIPs: []string{"192.0.2.12", "203.0.113.12"}},
		{name: "IP as hostname", in: addrs(host, "192.0.2.13"),
			wantIPs: []string{"192.0.2.13"}},
		{name: "IP as hostname and the same InternalIP", in: addrs(inIP, "192.0.2.14", host, "192.0.2.14"),
			wantIPs: []string{"192.0.2.14"}},
		{name: "leading-zero IPv4", in: addrs(inIP, "192.000.002.015"),
			wantIPs: []string{"192.0.2.15"}},
		{name: "leading-zero IPv4 and its plain form: two equal SANs", in: addrs(inIP, "192.000.002.016", exIP, "192.0.2.16"),
			wantIPs: []string{"192.0.2.16", "192.0.2.16"}},
		{name: "non-canonical IPv6", in: addrs(inIP, "2001:DB8:0:0::1a"),
			wantIPs: []string{"2001:db8::1a"}},
		{name: "two InternalIPs", in: addrs(inIP, "198.51.100.2", inIP, "198.51.100.1", host, "node-d"),
			wantDNS: []string{"node-d"}, wantIPs: []string{"198.51.100.1", "198.51.100.2"}},
		{name: "DNS case is kept as written", in: addrs(host, "Node-E.Example.com", inDNS, "node-e.example.com"),
			wantDNS: []string{"Node-E.Example.com", "node-e.example.com"}},
		{name: "unknown address type ignored", in: addrs("Weird", "192.0.2.99")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dns, ips := csr.NodeAddressSANs(tc.in)
			if diff := cmp.Diff(tc.wantDNS, dns); diff != "" {
				t.Errorf("DNS names (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantIPs, ipStrings(ips)); diff != "" {
				t.Errorf("IPs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSANComparison(t *testing.T) {
	mapped, _ := csr.IPSAN(net.ParseIP("::ffff:192.0.2.1"))
	plain, _ := csr.IPSAN(net.ParseIP("192.0.2.1").To4())
	if mapped != plain {
		t.Errorf("IPv4-mapped %v != IPv4 %v", mapped, plain)
	}
	long, _ := csr.IPSAN(net.ParseIP("2001:DB8:0:0:0:0:0:1"))
	short, _ := csr.IPSAN(net.ParseIP("2001:db8::1"))
	if long != short {
		t.Errorf("%v != %v", long, short)
	}
	if csr.DNSSAN("Node-A.Example.COM") != csr.DNSSAN("node-a.example.com") {
		t.Error("DNS SANs must compare case-insensitively")
	}
	if _, ok := csr.IPSAN(net.IP{1, 2, 3}); ok {
		t.Error("a 3-byte IP must not make a SAN")
	}
	got := csr.RequestSANs([]string{"A.example.com", "a.example.com"}, []net.IP{net.ParseIP("192.0.2.1"), net.ParseIP("::ffff:192.0.2.1")})
	want := []csr.SAN{{Type: csr.SANTypeDNS, Value: "a.example.com"}, {Type: csr.SANTypeIP, Value: "192.0.2.1"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RequestSANs (-want +got):\n%s", diff)
	}
	set := csr.NodeSANs(addrs("Hostname", "192.000.002.001", "Hostname", "Node-A"))
	if !set[plain] || !set[csr.DNSSAN("node-a")] || len(set) != 2 {
		t.Errorf("NodeSANs = %v", set)
	}
	if a, ok := plain.Addr(); !ok || a.String() != "192.0.2.1" {
		t.Errorf("Addr() = %v, %v", a, ok)
	}
}
