package csr

import (
	"net"
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	netutils "k8s.io/utils/net"
)

// NodeAddressSANs maps a Node's status.addresses to the subjectAltNames a kubelet asks for
// in its serving certificate, exactly as the kubelet does (k8s.io/kubernetes
// pkg/kubelet/certificate, addressesToHostnamesAndIPs): a Hostname that parses as an IP
// (netutils.ParseIPSloppy, which accepts leading-zero IPv4) is an IP SAN, any other
// Hostname a DNS SAN; InternalIP and ExternalIP are IP SANs when they parse and are
// dropped otherwise; InternalDNS and ExternalDNS are DNS SANs; empty addresses are skipped.
// Like the kubelet, it removes repeats by the address as written, so two spellings of one
// IP give two equal IP SANs; both lists are sorted as the kubelet sorts them.
func NodeAddressSANs(addresses []corev1.NodeAddress) (dnsNames []string, ips []net.IP) {
	seenDNS, seenIP := map[string]bool{}, map[string]bool{}
	for _, a := range addresses {
		if a.Address == "" {
			continue
		}
		isIP := netutils.ParseIPSloppy(a.Address) != nil
		switch a.Type {
		case corev1.NodeHostName:
			if isIP {
				seenIP[a.Address] = true
			} else {
				seenDNS[a.Address] = true
			}
		case corev1.NodeInternalIP, corev1.NodeExternalIP:
			if isIP {
				seenIP[a.Address] = true
			}
		case corev1.NodeInternalDNS, corev1.NodeExternalDNS:
			seenDNS[a.Address] = true
		}
	}
	for name := range seenDNS {
		dnsNames = append(dnsNames, name)
	}
	for ip := range seenIP {
		ips = append(ips, netutils.ParseIPSloppy(ip))
	}
	sort.Strings(dnsNames)
	sort.Slice(ips, func(i, j int) bool { return ips[i].String() < ips[j].String() })
	return dnsNames, ips
}

// SANType is the kind of a SAN: DNS or IP.
type SANType string

// The SAN types a serving certificate may hold.
const (
	SANTypeDNS SANType = "DNS"
	sanTypeIP  SANType = "IP"
)

// SAN is one DNS or IP subjectAltName in the form in which two SANs are compared, the way
// a TLS client matches them: DNS names in lower case, IPs as addresses (an IPv4-mapped
// IPv6 address equals its IPv4 form; 2001:DB8::1 equals 2001:db8:0::1). SAN values are
// comparable with == and usable as map keys.
type SAN struct {
	Type SANType
	// Value is the lower-case DNS name or the IP's canonical text.
	Value string
}

// DNSSAN is the comparable form of a DNS subjectAltName.
func DNSSAN(name string) SAN { return SAN{Type: SANTypeDNS, Value: strings.ToLower(name)} }

// IPSAN is the comparable form of an IP subjectAltName; ok is false for an IP of neither
// 4 nor 16 bytes.
func IPSAN(ip net.IP) (san SAN, ok bool) {
	addr, ok := netip.AddrFromSlice(ip)
	if !ok {
		return SAN{}, false
	}
	return SAN{Type: sanTypeIP, Value: addr.Unmap().String()}, true
}

// Addr is the IP of an IP SAN; ok is false for a DNS SAN.
func (s SAN) Addr() (addr netip.Addr, ok bool) {
	if s.Type != sanTypeIP {
		return netip.Addr{}, false
	}
	addr, err := netip.ParseAddr(s.Value)
	return addr, err == nil
}

// String is the SAN as a person reads it, e.g. `IP 192.0.2.10` or `DNS node-1.example.com`.
func (s SAN) String() string { return string(s.Type) + " " + s.Value }

// RequestSANs lists the DNS and IP subjectAltNames of a request (or certificate) in
// comparable form, without repeats, DNS names first, each in the order first seen. IPs of
// an impossible length are dropped (the x509 parser never yields them).
func RequestSANs(dnsNames []string, ips []net.IP) []SAN {
	out := make([]SAN, 0, len(dnsNames)+len(ips))
	seen := make(map[SAN]bool, cap(out))
	add := func(s SAN) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, name := range dnsNames {
		add(DNSSAN(name))
	}
	for _, ip := range ips {
		if s, ok := IPSAN(ip); ok {
			add(s)
		}
	}
	return out
}

// NodeSANs is the set of SANs a kubelet with these addresses may ask for: NodeAddressSANs
// in comparable form.
func NodeSANs(addresses []corev1.NodeAddress) map[SAN]bool {
	dnsNames, ips := NodeAddressSANs(addresses)
	set := make(map[SAN]bool, len(dnsNames)+len(ips))
	for _, s := range RequestSANs(dnsNames, ips) {
		set[s] = true
	}
	return set
}
