package approve

import (
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// ServingRule names one check of kubelet serving approval. It is named in the Denied
// condition's message, the Event, the log line and the metric label of each violation.
type ServingRule string

// The serving rules, in the order they are checked. RuleOwnAddresses is the base rule
// and always decides; each other rule can be set to Audit or Disabled on its own.
const (
	// RuleOwnAddresses: every DNS and IP SAN is among the requesting Node's own addresses,
	// mapped as the kubelet maps them (csr.NodeAddressSANs). A node writes its own
	// addresses, so this proves only that the node said so: the rules below refuse what is
	// provably not the node's.
	RuleOwnAddresses ServingRule = "OwnAddresses"
	// RuleUniqueAddress: no SAN another Node lists among its addresses, and no DNS SAN that
	// is another Node's name. Turn it off where nodes share an address on purpose (a
	// virtual IP). A node can block another by claiming its address first; the message
	// names both Nodes.
	RuleUniqueAddress ServingRule = "UniqueAddress"
	// RuleServiceAddress: no IP of the default/kubernetes Service, nor in a Service CIDR
	// (ServiceCIDR objects, and ServingPolicy.ServiceCIDRs).
	RuleServiceAddress ServingRule = "ServiceAddress"
	// RulePodAddress: no IP in a Node's spec.podCIDRs or in ServingPolicy.PodCIDRs.
	RulePodAddress ServingRule = "PodAddress"
	// RuleSpecialAddress: no loopback, unspecified, link-local (the cloud metadata
	// services) or multicast IP.
	RuleSpecialAddress ServingRule = "SpecialAddress"
	// RuleForbiddenAddress: no IP in ServingPolicy.ForbiddenCIDRs.
	RuleForbiddenAddress ServingRule = "ForbiddenAddress"
	// RuleAPIServerAddress: none of the API server's addresses (the default/kubernetes
	// EndpointSlice) or of the names and IPs in its serving certificate, unless the
	// requesting Node has the node-role.kubernetes.io/control-plane label (which
	// NodeRestriction keeps a kubelet from setting on itself): a control-plane node's
	// kubelet shares its host's address and name with the API server.
	RuleAPIServerAddress ServingRule = "APIServerAddress"
	// RuleDNSName: every DNS SAN is a DNS-1123 subdomain (in lower case) without a
	// wildcard, and none of localhost, *.localhost, kubernetes, kubernetes.default,
	// kubernetes.default.svc and kubernetes.default.svc.<cluster domain>.
	RuleDNSName ServingRule = "DNSName"
	// RuleAllowedAddress: when ServingPolicy.AllowedIPPrefixes is set every IP SAN is in
	// one of them; when AllowedDNSSuffixes or AllowedDNSPatterns is set every DNS SAN
	// matches one of them.
	RuleAllowedAddress ServingRule = "AllowedAddress"
	// RuleMaxSANs: at most ServingPolicy.MaxSANs SANs, when set.
	RuleMaxSANs ServingRule = "MaxSANs"
	// RuleMaxLifetime: spec.expirationSeconds, when the CSR sets it, is at most
	// ServingPolicy.MaxExpirationSeconds, when set. A CSR without it gets the signer's
	// duration (the kubelet sets none).
	RuleMaxLifetime ServingRule = "MaxLifetime"
)

// ServingRules lists every rule in the order they are checked.
func ServingRules() []ServingRule {
	return []ServingRule{RuleOwnAddresses, RuleUniqueAddress, RuleServiceAddress, RulePodAddress, RuleSpecialAddress,
		RuleForbiddenAddress, RuleAPIServerAddress, RuleDNSName, RuleAllowedAddress, RuleMaxSANs, RuleMaxLifetime}
}

// RuleMode is what a serving rule does when a CSR breaks it.
type RuleMode string

// The rule modes. The zero value means ModeEnforce.
const (
	// ModeEnforce denies the CSR, naming the rule.
	ModeEnforce RuleMode = "Enforce"
	// ModeAudit reports "would deny" (Event, metric, log) and lets the other rules decide:
	// for rolling a policy out.
	ModeAudit RuleMode = "Audit"
	// ModeDisabled skips the rule. (Not "Off": YAML reads an unquoted Off as false.)
	ModeDisabled RuleMode = "Disabled"
)

// DefaultClusterDomain is the cluster DNS domain assumed when ServingPolicy.ClusterDomain
// is empty, as the kubelet's --cluster-domain usually is.
const DefaultClusterDomain = "cluster.local"

// ServingPolicy is what serving approval allows beyond the requester, usages and SANs
// among the Node's own addresses. The zero value is the safe default: every rule
// enforced, nothing configured beyond what the cluster says. It is also the form of the
// policy file (LoadServingPolicy), field names as in the json tags.
type ServingPolicy struct {
	// DefaultMode applies to every rule but RuleOwnAddresses that Rules does not name.
	// Empty means ModeEnforce; ModeAudit rolls a new policy out.
	DefaultMode RuleMode `json:"defaultMode,omitempty"`
	// Rules set the mode of single rules, overriding DefaultMode.
	Rules map[ServingRule]RuleMode `json:"rules,omitempty"`
	// ClusterDomain completes kubernetes.default.svc.<domain> among the refused names.
	// Default DefaultClusterDomain.
	ClusterDomain string `json:"clusterDomain,omitempty"`
	// ServiceCIDRs adds Service ranges to those the cluster's ServiceCIDR objects give
	// (clusters older than that API, or to be sure).
	ServiceCIDRs []netip.Prefix `json:"serviceCIDRs,omitempty"`
	// PodCIDRs adds Pod ranges to the Nodes' spec.podCIDRs (a CNI that allocates its own).
	PodCIDRs []netip.Prefix `json:"podCIDRs,omitempty"`
	// ForbiddenCIDRs are ranges no serving certificate may name (RuleForbiddenAddress).
	ForbiddenCIDRs []netip.Prefix `json:"forbiddenCIDRs,omitempty"`
	// AllowedIPPrefixes, when set, bound every IP SAN (RuleAllowedAddress).
	AllowedIPPrefixes []netip.Prefix `json:"allowedIPPrefixes,omitempty"`
	// AllowedDNSSuffixes and AllowedDNSPatterns, when either is set, bound every DNS SAN
	// (RuleAllowedAddress): a suffix "example.com" matches example.com and its
	// subdomains; a pattern is a regular expression matched against the whole lower-case
	// name.
	AllowedDNSSuffixes []string `json:"allowedDNSSuffixes,omitempty"`
	AllowedDNSPatterns []string `json:"allowedDNSPatterns,omitempty"`
	// MaxSANs, when above 0, bounds the number of SANs (RuleMaxSANs).
	MaxSANs int `json:"maxSANs,omitempty"`
	// MaxExpirationSeconds, when above 0, bounds a CSR's spec.expirationSeconds
	// (RuleMaxLifetime).
	MaxExpirationSeconds int32 `json:"maxExpirationSeconds,omitempty"`
}

// Mode is the mode rule runs in under p: RuleOwnAddresses always enforces.
func (p *ServingPolicy) modeOf(rule ServingRule) RuleMode {
	if rule == RuleOwnAddresses {
		return ModeEnforce
	}
	if m, ok := p.Rules[rule]; ok && m != "" {
		return m
	}
	if p.DefaultMode == "" {
		return ModeEnforce
	}
	return p.DefaultMode
}

// Validate checks p, naming the field of the first problem.
func (p *ServingPolicy) Validate() error {
	_, err := p.compile()
	return err
}

// LoadServingPolicy reads a ServingPolicy from a YAML or JSON file and validates it.
// Unknown fields are errors, so a misspelt setting is never silently ignored.
func LoadServingPolicy(path string) (ServingPolicy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return ServingPolicy{}, fmt.Errorf("reading serving policy: %w", err)
	}
	var p ServingPolicy
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		return ServingPolicy{}, fmt.Errorf("serving policy %q: %w", path, err)
	}
	if err := p.Validate(); err != nil {
		return ServingPolicy{}, fmt.Errorf("serving policy %q: %w", path, err)
	}
	return p, nil
}

// servingPolicy is a validated ServingPolicy with its patterns compiled.
type servingPolicy struct {
	ServingPolicy
	reservedNames map[string]bool
	dnsPatterns   []*regexp.Regexp
	dnsSuffixes   []string
}

func (p *ServingPolicy) compile() (*servingPolicy, error) {
	c := &servingPolicy{ServingPolicy: *p}
	if err := validMode(p.DefaultMode); err != nil {
		return nil, fmt.Errorf("serving policy: defaultMode: %w", err)
	}
	for rule, mode := range p.Rules {
		if !slices.Contains(ServingRules(), rule) {
			return nil, fmt.Errorf("serving policy: rules: unknown rule %q (known: %s)", rule, joinRules(ServingRules()))
		}
		if err := validMode(mode); err != nil {
			return nil, fmt.Errorf("serving policy: rules[%s]: %w", rule, err)
		}
		if rule == RuleOwnAddresses && mode != "" && mode != ModeEnforce {
			return nil, fmt.Errorf("serving policy: rules[%s]: the base rule is always enforced", rule)
		}
	}
	if c.ClusterDomain == "" {
		c.ClusterDomain = DefaultClusterDomain
	}
	c.ClusterDomain = strings.ToLower(strings.TrimSuffix(c.ClusterDomain, "."))
	if errs := validation.IsDNS1123Subdomain(c.ClusterDomain); len(errs) > 0 {
		return nil, fmt.Errorf("serving policy: clusterDomain %q: %s", p.ClusterDomain, strings.Join(errs, "; "))
	}
	for field, prefixes := range map[string][]netip.Prefix{"serviceCIDRs": p.ServiceCIDRs, "podCIDRs": p.PodCIDRs,
		"forbiddenCIDRs": p.ForbiddenCIDRs, "allowedIPPrefixes": p.AllowedIPPrefixes} {
		for i, pr := range prefixes {
			if !pr.IsValid() {
				return nil, fmt.Errorf("serving policy: %s[%d]: not a valid prefix", field, i)
			}
		}
	}
	for i, s := range p.AllowedDNSSuffixes {
		s = strings.ToLower(strings.Trim(s, "."))
		if errs := validation.IsDNS1123Subdomain(s); len(errs) > 0 {
			return nil, fmt.Errorf("serving policy: allowedDNSSuffixes[%d] %q: %s", i, p.AllowedDNSSuffixes[i], strings.Join(errs, "; "))
		}
		c.dnsSuffixes = append(c.dnsSuffixes, s)
	}
	for i, pat := range p.AllowedDNSPatterns {
		re, err := regexp.Compile(`^(?:` + pat + `)$`)
		if err != nil {
			return nil, fmt.Errorf("serving policy: allowedDNSPatterns[%d]: %w", i, err)
		}
		c.dnsPatterns = append(c.dnsPatterns, re)
	}
	if p.MaxSANs < 0 {
		return nil, fmt.Errorf("serving policy: maxSANs %d: must be 0 (no limit) or more", p.MaxSANs)
	}
	if p.MaxExpirationSeconds < 0 || (p.MaxExpirationSeconds > 0 && p.MaxExpirationSeconds < 600) {
		return nil, fmt.Errorf("serving policy: maxExpirationSeconds %d: must be 0 (no limit) or at least 600, the API's minimum", p.MaxExpirationSeconds)
	}
	c.reservedNames = map[string]bool{"localhost": true, "kubernetes": true, "kubernetes.default": true,
		"kubernetes.default.svc": true, "kubernetes.default.svc." + c.ClusterDomain: true}
	return c, nil
}

func validMode(m RuleMode) error {
	switch m {
	case "", ModeEnforce, ModeAudit, ModeDisabled:
		return nil
	}
	return fmt.Errorf("unknown mode %q (want %s, %s or %s)", m, ModeEnforce, ModeAudit, ModeDisabled)
}

func joinRules(rules []ServingRule) string {
	s := make([]string, len(rules))
	for i, r := range rules {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}
