package malicious

import (
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// The serving rules a spoofing case must be denied by (approve.ServingRule values; the
// corpus checks the Denied message, as an operator reads it).
const (
	ruleUnique  = "UniqueAddress"
	ruleService = "ServiceAddress"
	rulePod     = "PodAddress"
	ruleSpecial = "SpecialAddress"
	ruleDNSName = "DNSName"
)

// buildServingSpoofs lists nodes that first write an address that is not theirs into
// their own status.addresses (NodeRestriction lets a node write its own status) and then
// request a serving certificate the way a kubelet would: every address listed, mapped by
// csr.NodeAddressSANs. Each must be denied by the rule that names the address's real
// holder. Every attacker also lists its own hostname and IP; every victim is a Node of its
// own, created before its attacker.
func buildServingSpoofs(n func(string) string, env Env, plan *addrPlan, add func(Case, spec)) {
	const category = "serving spoofing"
	spoof := func(name, rule string, victims []NodeSpec, listed ...corev1.NodeAddress) {
		attacker := NodeSpec{Name: n("spoof-" + name)}
		attacker.Addresses = append([]corev1.NodeAddress{hostname(attacker.Name), internalIP(plan.v4())}, listed...)
		add(Case{Name: "serving-spoof-" + name, Category: category, As: nodeID(attacker.Name), SignerName: kubeletServing,
			Usages: servingUsages, Want: NotApproved, DenyRule: rule, Nodes: append(victims, attacker)}, attacker.kubeletServing())
	}
	// victim is another Node with its name as Hostname and an InternalIP of its own.
	victim := func(name string) NodeSpec {
		v := n("victim-" + name)
		return NodeSpec{Name: v, Addresses: []corev1.NodeAddress{hostname(v), internalIP(plan.v4())}}
	}
	one := func(v NodeSpec) []NodeSpec { return []NodeSpec{v} }

	// Another Node's IP, in every spelling that maps to the same address.
	v := victim("ip")
	spoof("other-node-ip", ruleUnique, one(v), internalIP(v.firstIP()))
	v = victim("ip-mapped")
	spoof("other-node-ip-ipv4-mapped", ruleUnique, one(v), externalIP("::ffff:"+v.firstIP()))
	v = victim("mapped-ip")
	mapped := v.firstIP()
	v.Addresses[1] = internalIP("::ffff:" + mapped) // the victim reports the mapped form, the attacker the plain one
	spoof("other-node-ipv4-mapped-ip", ruleUnique, one(v), internalIP(mapped))
	v = victim("ip-zeros")
	spoof("other-node-ip-leading-zeros", ruleUnique, one(v), internalIP(leadingZeros(v.firstIP())))
	v = victim("ip-hostname")
	spoof("other-node-ip-as-hostname", ruleUnique, one(v), hostname(v.firstIP()))
	spoof("other-node-ip-as-dns-name", ruleUnique, one(v), internalDNS(v.firstIP()))
	v = victim("ipv6")
	v.Addresses = append(v.Addresses, internalIP(plan.v6()))
	spoof("other-node-ipv6-long-form", ruleUnique, one(v), internalIP(longIPv6(v.Addresses[2].Address)))

	// Another Node's hostname (a name other than its Node name), and its Node name.
	v = victim("host")
	v.Addresses[0] = hostname(v.Name + ".example.net")
	spoof("other-node-hostname", ruleUnique, one(v), hostname(v.Name+".example.net"))
	v = victim("host-upper")
	v.Addresses[0] = hostname(v.Name + ".example.net")
	spoof("other-node-hostname-upper-case", ruleUnique, one(v), internalDNS(strings.ToUpper(v.Name)+".EXAMPLE.net"))
	v = victim("name")
	v.Addresses = v.Addresses[1:] // the victim does not list its name: only the Node's name holds it
	spoof("other-node-name", ruleUnique, one(v), internalDNS(v.Name))
	v = victim("name-upper")
	v.Addresses = v.Addresses[1:]
	spoof("other-node-name-upper-case", ruleUnique, one(v), internalDNS(strings.ToUpper(v.Name)))

	// Service addresses.
	spoof("kubernetes-service-ip", ruleService, nil, internalIP(env.KubernetesServiceIP))
	if ip := nthAddr(env.ServiceCIDR, 200); ip != "" && ip != env.KubernetesServiceIP {
		spoof("service-cidr-ip", ruleService, nil, internalIP(ip))
	}

	// An IP inside another Node's Pod CIDR (IPv4, and IPv6 of a dual-stack Node).
	v = victim("podcidr")
	cidr4, in4 := plan.podCIDR4()
	v.PodCIDRs = []string{cidr4}
	spoof("pod-cidr-ip", rulePod, one(v), internalIP(in4))
	v = victim("podcidr6")
	cidr4, _ = plan.podCIDR4()
	cidr6, in6 := plan.podCIDR6()
	v.PodCIDRs = []string{cidr4, cidr6}
	spoof("pod-cidr-ipv6", rulePod, one(v), internalIP(in6))

	// Loopback (127.0.0.1 is also the test API server's address and certificate IP),
	// unspecified, link-local (the cloud metadata service) and multicast.
	for _, s := range []struct{ name, ip string }{
		{"loopback", "127.0.0.1"},
		{"loopback-127-0-0-53", "127.0.0.53"},
		{"loopback-ipv6", "::1"},
		{"metadata-service", "169.254.169.254"},
		{"link-local-ipv6", "fe80::1"},
		{"unspecified", "0.0.0.0"},
		{"unspecified-ipv6", "::"},
		{"multicast", "224.0.0.251"},
		{"multicast-ipv6", "ff02::1"},
	} {
		spoof(s.name, ruleSpecial, nil, internalIP(s.ip))
	}
	spoof("loopback-ipv4-mapped", ruleSpecial, nil, externalIP("::ffff:127.0.0.1"))
	spoof("loopback-as-hostname", ruleSpecial, nil, hostname("127.0.0.1"))
	// IP literals listed as DNS names: a DNS SAN is judged as the IP it names too.
	spoof("loopback-as-dns-name", ruleSpecial, nil, internalDNS("127.0.0.1"))
	spoof("metadata-service-as-dns-name", ruleSpecial, nil, externalDNS("169.254.169.254"))
	spoof("kubernetes-service-ip-as-dns-name", ruleService, nil, internalDNS(env.KubernetesServiceIP))

	// Names no node may hold (localhost is also the test API server's certificate name).
	for _, s := range []struct{ name, dns string }{
		{"wildcard", "*.example.com"},
		{"localhost", "localhost"},
		{"dot-localhost", "foo.localhost"},
		{"kubernetes", "kubernetes"},
		{"kubernetes-default", "kubernetes.default"},
		{"kubernetes-default-svc", "kubernetes.default.svc"},
		{"kubernetes-default-svc-cluster-local", "kubernetes.default.svc.cluster.local"},
		{"kubernetes-default-svc-upper-case", "Kubernetes.Default.Svc.Cluster.Local"},
		{"not-dns-1123", "bad_name.example.com"},
	} {
		spoof(s.name, ruleDNSName, nil, internalDNS(s.dns))
	}
}

// buildKubeletShapes lists legitimate requests: every shape of status.addresses a real
// kubelet reports for addresses that are its own, and the serving request it makes for
// them (csr.NodeAddressSANs, the kubelet's mapping). Each must be signed.
func buildKubeletShapes(n func(string) string, plan *addrPlan, add func(Case, spec)) {
	shape := func(name string, addrs func(node string) []corev1.NodeAddress) {
		node := NodeSpec{Name: n("shape-" + name)}
		node.Addresses = addrs(node.Name)
		add(Case{Name: "serving-kubelet-" + name, Category: "serving kubelet shapes", As: nodeID(node.Name), SignerName: kubeletServing,
			Usages: servingUsages, Want: Signed, Nodes: []NodeSpec{node}}, node.kubeletServing())
	}
	list := func(a ...corev1.NodeAddress) []corev1.NodeAddress { return a }

	shape("hostname-ipv4", func(node string) []corev1.NodeAddress { return list(hostname(node), internalIP(plan.v4())) })
	shape("ipv6-only", func(string) []corev1.NodeAddress { return list(internalIP(plan.v6())) })
	shape("hostname-ipv6", func(node string) []corev1.NodeAddress { return list(hostname(node), internalIP(plan.v6())) })
	shape("dual-stack", func(node string) []corev1.NodeAddress {
		return list(internalIP(plan.v4()), internalIP(plan.v6()), hostname(node))
	})
	shape("dns-and-ips", func(node string) []corev1.NodeAddress {
		return list(internalIP(plan.v4()), externalIP(plan.v4()), internalDNS(node+".internal.example"),
			externalDNS(node+".example.com"), hostname(node))
	})
	shape("external-ip", func(node string) []corev1.NodeAddress { return list(hostname(node), externalIP(plan.v4())) })
	shape("ip-as-hostname", func(string) []corev1.NodeAddress { return list(hostname(plan.v4())) })
	shape("ip-as-hostname-and-internal-ip", func(string) []corev1.NodeAddress {
		ip := plan.v4()
		return list(internalIP(ip), hostname(ip))
	})
	shape("ipv6-as-hostname", func(string) []corev1.NodeAddress { return list(hostname(plan.v6())) })
	shape("leading-zero-ipv4", func(node string) []corev1.NodeAddress {
		return list(internalIP(leadingZeros(plan.v4())), hostname(node))
	})
	shape("leading-zero-ip-as-hostname", func(string) []corev1.NodeAddress { return list(hostname(leadingZeros(plan.v4()))) })
	shape("ipv4-two-spellings", func(node string) []corev1.NodeAddress {
		ip := plan.v4() // the kubelet removes repeats as written: the request holds the IP twice
		return list(internalIP(ip), externalIP(leadingZeros(ip)), hostname(node))
	})
	shape("ipv6-long-form", func(node string) []corev1.NodeAddress {
		return list(internalIP(longIPv6(plan.v6())), hostname(node))
	})
	shape("ipv6-upper-case-zeros", func(node string) []corev1.NodeAddress {
		return list(internalIP(zerosIPv6(plan.v6())), hostname(node))
	})
	shape("ipv4-mapped-internal-ip", func(node string) []corev1.NodeAddress {
		return list(internalIP("::ffff:"+plan.v4()), hostname(node))
	})
	shape("two-internal-ips", func(node string) []corev1.NodeAddress {
		return list(internalIP(plan.v4()), internalIP(plan.v4()), hostname(node))
	})
	shape("upper-case-hostname", func(node string) []corev1.NodeAddress {
		// The kubelet requests the name as written; the rules compare it in lower case.
		return list(internalIP(plan.v4()), hostname(strings.ToUpper(node[:1])+node[1:]+".Example.com"))
	})
	shape("hostname-not-node-name", func(node string) []corev1.NodeAddress {
		return list(internalIP(plan.v4()), hostname(node+".cluster.example"))
	})
	shape("unparsable-ip-dropped", func(node string) []corev1.NodeAddress {
		// The kubelet drops an InternalIP that does not parse; so must the approver's mapping.
		return list(internalIP("not-an-ip"), internalIP(plan.v4()), hostname(node))
	})
}

// zerosIPv6 writes an IPv6 address of the plan (2001:db8:h::n) in upper case with two of
// its zero groups spelt out (2001:DB8:1A2B:0:0::7A).
func zerosIPv6(ip string) string {
	a := netip.MustParseAddr(ip).As16()
	g := func(i int) uint16 { return uint16(a[2*i])<<8 | uint16(a[2*i+1]) }
	for i := 3; i < 7; i++ {
		if g(i) != 0 {
			panic(fmt.Sprintf("malicious: zerosIPv6(%s): group %d is not zero", ip, i)) // corpus construction bug
		}
	}
	return fmt.Sprintf("%X:%X:%X:0:0::%X", g(0), g(1), g(2), g(7))
}
