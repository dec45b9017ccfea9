package rotate

import (
	"crypto/x509"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// certTemplate is what a certificate must hold to stay in use: when the current certificate
// no longer matches it (another CN or O, SANs added or removed), it is renewed at once.
// Order and duplicates do not matter.
type certTemplate struct {
	CommonName   string
	Organization []string
	DNSNames     []string
	IPAddresses  []net.IP
}

// clientTemplate is the kubelet client certificate of node: CN system:node:<node>, O
// system:nodes, no SANs.
func clientTemplate(nodeName string) certTemplate {
	return certTemplate{CommonName: csr.NodeUserPrefix + nodeName, Organization: []string{csr.NodesGroup}}
}

// servingTemplate is the kubelet serving certificate of node with the given SANs.
func servingTemplate(nodeName string, dnsNames []string, ips []net.IP) certTemplate {
	t := clientTemplate(nodeName)
	t.DNSNames, t.IPAddresses = dnsNames, ips
	return t
}

// Mismatch says how cert differs from t, or "" when it matches.
func (t certTemplate) Mismatch(cert *x509.Certificate) string {
	switch {
	case cert == nil:
		return "no certificate"
	case cert.Subject.CommonName != t.CommonName:
		return fmt.Sprintf("common name %q, want %q", cert.Subject.CommonName, t.CommonName)
	case !sameStrings(cert.Subject.Organization, t.Organization):
		return fmt.Sprintf("organization %v, want %v", cert.Subject.Organization, t.Organization)
	case !sameStrings(cert.DNSNames, t.DNSNames):
		return fmt.Sprintf("DNS names %v, want %v", cert.DNSNames, t.DNSNames)
	case !sameStrings(ipStrings(cert.IPAddresses), ipStrings(t.IPAddresses)):
		return fmt.Sprintf("IP addresses %v, want %v", cert.IPAddresses, t.IPAddresses)
	}
	return ""
}

// renewReason says why cert must be renewed at once (no certificate, expired, a weak
// key, or not matching t), or "" when it may wait for its deadline.
func renewReason(cert *x509.Certificate, t certTemplate, now time.Time) string {
	if cert == nil {
		return "no certificate"
	}
	if !now.Before(cert.NotAfter) {
		return "expired at " + cert.NotAfter.UTC().Format(time.RFC3339)
	}
	if err := csr.ValidateKey(cert.PublicKey); err != nil {
		return "weak key: " + err.Error()
	}
	if m := t.Mismatch(cert); m != "" {
		return "does not match the template: " + m
	}
	return ""
}

func sameStrings(a, b []string) bool {
	return slices.Equal(normalize(a), normalize(b))
}

func normalize(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

func ipStrings(ips []net.IP) []string {
	out := make([]string, 0, len(ips))
	for _, ip := range ips {
		out = append(out, strings.ToLower(ip.String()))
	}
	return out
}
