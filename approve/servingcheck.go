package approve

import (
	"crypto/x509"
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	netutils "k8s.io/utils/net"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// ServingViolation is a kubelet serving CSR that breaks a ServingRule: the typed reason
// behind a serving denial (Decision.Cause) or an audit finding (Decision.Audit).
type ServingViolation struct {
	Rule ServingRule
	// Node is the requesting Node.
	Node string
	// SAN is the offending subjectAltName; zero for the rules about the whole request
	// (RuleMaxSANs, RuleMaxLifetime).
	SAN csr.SAN
	// Conflict names what holds the SAN or the setting it breaks, e.g. `Node "node-b"`
	// or `ServiceCIDR "kubernetes" (10.96.0.0/12)`; empty when nothing else holds it.
	Conflict string
	// Detail says what is wrong in a sentence, without the rule.
	Detail string
}

func (v *ServingViolation) Error() string {
	return fmt.Sprintf("rule %s: %s", v.Rule, v.Detail)
}

// servingCheck is one row of the serving policy: a rule and how it judges one SAN.
type servingCheck struct {
	rule  ServingRule
	check func(e *servingEval, san csr.SAN, claims []addrClaim) (conflict, detail string)
}

// servingChecks are the per-SAN rules in the order they are reported.
var servingChecks = []servingCheck{
	{RuleUniqueAddress, checkUnique},
	{RuleServiceAddress, checkService},
	{RulePodAddress, checkPod},
	{RuleSpecialAddress, checkSpecial},
	{RuleForbiddenAddress, checkForbidden},
	{RuleAPIServerAddress, checkAPIServer},
	{RuleDNSName, checkDNSName},
	{RuleAllowedAddress, checkAllowed},
}

// servingEval is one serving CSR being judged.
type servingEval struct {
	policy *servingPolicy
	node   *corev1.Node
}

// evaluateServing judges a serving request against node and facts under p: the base rule
// first (its violation alone is returned), then every rule not Off. It returns the
// violations of enforced rules and those of audited ones.
func evaluateServing(p *servingPolicy, facts ServingFacts, node *corev1.Node, req *x509.CertificateRequest, expirationSeconds *int32) (enforced, audited []*ServingViolation) {
	sans := csr.RequestSANs(req.DNSNames, req.IPAddresses)
	own := csr.NodeSANs(node.Status.Addresses)
	for _, san := range sans {
		if !own[san] {
			return []*ServingViolation{{Rule: RuleOwnAddresses, Node: node.Name, SAN: san,
				Detail: fmt.Sprintf("%s subjectAltName %q is not among the addresses of node %q", san.Type, san.Value, node.Name)}}, nil
		}
	}
	report := func(v *ServingViolation) {
		switch p.modeOf(v.Rule) {
		case ModeEnforce:
			enforced = append(enforced, v)
		case ModeAudit:
			audited = append(audited, v)
		}
	}
	e := &servingEval{policy: p, node: node}
	for _, san := range sans {
		for _, form := range addressForms(san) {
			claims := facts.claims(form)
			for _, c := range servingChecks {
				if p.modeOf(c.rule) == ModeDisabled {
					continue
				}
				if conflict, detail := c.check(e, form, claims); detail != "" {
					if form != san {
						detail = fmt.Sprintf("%s names an IP: %s", san, detail)
					}
					report(&ServingViolation{Rule: c.rule, Node: node.Name, SAN: san, Conflict: conflict, Detail: detail})
				}
			}
		}
	}
	if p.MaxSANs > 0 && len(sans) > p.MaxSANs && p.modeOf(RuleMaxSANs) != ModeDisabled {
		report(&ServingViolation{Rule: RuleMaxSANs, Node: node.Name, Conflict: "maxSANs",
			Detail: fmt.Sprintf("%d subjectAltNames, at most %d allowed", len(sans), p.MaxSANs)})
	}
	if p.MaxExpirationSeconds > 0 && expirationSeconds != nil && *expirationSeconds > p.MaxExpirationSeconds && p.modeOf(RuleMaxLifetime) != ModeDisabled {
		report(&ServingViolation{Rule: RuleMaxLifetime, Node: node.Name, Conflict: "maxExpirationSeconds",
			Detail: fmt.Sprintf("expirationSeconds %d is above the allowed %d", *expirationSeconds, p.MaxExpirationSeconds)})
	}
	return enforced, audited
}

// addressForms are the forms in which the rules judge a SAN: itself, and for a DNS name
// that is an IP literal (a Node may list one as InternalDNS) also that IP, since some
// clients match an IP host against DNS SANs too.
func addressForms(san csr.SAN) []csr.SAN {
	if san.Type == csr.SANTypeDNS {
		if ip := netutils.ParseIPSloppy(san.Value); ip != nil {
			if asIP, ok := csr.IPSAN(ip); ok {
				return []csr.SAN{san, asIP}
			}
		}
	}
	return []csr.SAN{san}
}

func checkUnique(e *servingEval, san csr.SAN, claims []addrClaim) (string, string) {
	var others []string
	for _, c := range claims {
		if c.Kind == claimNode && c.Name != e.node.Name {
			others = append(others, quote(c.Name))
		}
	}
	if len(others) == 0 {
		return "", ""
	}
	return "Node " + strings.Join(others, ", "), fmt.Sprintf("%s is also an address of node %s; node %q may not have a certificate for it",
		san, strings.Join(others, ", "), e.node.Name)
}

func checkService(e *servingEval, san csr.SAN, claims []addrClaim) (string, string) {
	if c, ok := firstClaim(claims, claimServiceIP, claimServiceCIDR); ok {
		return c.String(), fmt.Sprintf("%s is a Service address (%s)", san, c)
	}
	return inPrefixes(san, e.policy.ServiceCIDRs, "serviceCIDRs", "a Service address")
}

func checkPod(e *servingEval, san csr.SAN, claims []addrClaim) (string, string) {
	if c, ok := firstClaim(claims, claimPodCIDR); ok {
		return c.String(), fmt.Sprintf("%s is in the Pod CIDR %s of node %q", san, c.Detail, c.Name)
	}
	return inPrefixes(san, e.policy.PodCIDRs, "podCIDRs", "a Pod address")
}

func checkForbidden(e *servingEval, san csr.SAN, _ []addrClaim) (string, string) {
	return inPrefixes(san, e.policy.ForbiddenCIDRs, "forbiddenCIDRs", "forbidden")
}

// specialRanges are the IPs that no node may hold as its own, with why.
var specialRanges = []struct {
	is   func(netip.Addr) bool
	what string
}{
	{netip.Addr.IsLoopback, "loopback"},
	{netip.Addr.IsUnspecified, "unspecified"},
	{netip.Addr.IsLinkLocalUnicast, "link-local (cloud metadata services live there)"},
	{netip.Addr.IsMulticast, "multicast"},
}

func checkSpecial(_ *servingEval, san csr.SAN, _ []addrClaim) (string, string) {
	addr, ok := san.Addr()
	if !ok {
		return "", ""
	}
	for _, r := range specialRanges {
		if r.is(addr) {
			return "", fmt.Sprintf("%s is a %s address", san, r.what)
		}
	}
	return "", ""
}

func checkAPIServer(e *servingEval, san csr.SAN, claims []addrClaim) (string, string) {
	c, ok := firstClaim(claims, claimAPIServerEndpoint, claimAPIServerCertificate)
	if !ok || isControlPlane(e.node) {
		return "", ""
	}
	return c.String(), fmt.Sprintf("%s is the API server's (%s) and node %q is not labelled %s", san, c, e.node.Name, controlPlaneLabel)
}

func checkDNSName(e *servingEval, san csr.SAN, _ []addrClaim) (string, string) {
	if san.Type != csr.SANTypeDNS {
		return "", ""
	}
	name := san.Value
	switch {
	case strings.Contains(name, "*"):
		return "", fmt.Sprintf("%s is a wildcard", san)
	case e.policy.reservedNames[name] || strings.HasSuffix(name, ".localhost"):
		return "", fmt.Sprintf("%s is a name no node may hold", san)
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return "", fmt.Sprintf("%s is not a DNS-1123 subdomain: %s", san, strings.Join(errs, "; "))
	}
	return "", ""
}

func checkAllowed(e *servingEval, san csr.SAN, _ []addrClaim) (string, string) {
	p := e.policy
	if addr, ok := san.Addr(); ok {
		if len(p.AllowedIPPrefixes) == 0 || prefixOf(addr, p.AllowedIPPrefixes).IsValid() {
			return "", ""
		}
		return "allowedIPPrefixes", fmt.Sprintf("%s is in none of allowedIPPrefixes", san)
	}
	if len(p.dnsSuffixes) == 0 && len(p.dnsPatterns) == 0 {
		return "", ""
	}
	for _, s := range p.dnsSuffixes {
		if san.Value == s || strings.HasSuffix(san.Value, "."+s) {
			return "", ""
		}
	}
	for _, re := range p.dnsPatterns {
		if re.MatchString(san.Value) {
			return "", ""
		}
	}
	return "allowedDNSSuffixes/allowedDNSPatterns", fmt.Sprintf("%s matches none of allowedDNSSuffixes and allowedDNSPatterns", san)
}

func firstClaim(claims []addrClaim, kinds ...claimKind) (addrClaim, bool) {
	for _, c := range claims {
		for _, k := range kinds {
			if c.Kind == k {
				return c, true
			}
		}
	}
	return addrClaim{}, false
}

// inPrefixes reports an IP SAN inside one of a configured field's prefixes.
func inPrefixes(san csr.SAN, prefixes []netip.Prefix, field, what string) (string, string) {
	addr, ok := san.Addr()
	if !ok {
		return "", ""
	}
	if p := prefixOf(addr, prefixes); p.IsValid() {
		return field + " " + p.String(), fmt.Sprintf("%s is %s (%s %s)", san, what, field, p)
	}
	return "", ""
}

func prefixOf(addr netip.Addr, prefixes []netip.Prefix) netip.Prefix {
	for _, p := range prefixes {
		if p.Contains(addr) {
			return p
		}
	}
	return netip.Prefix{}
}
