package main

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
)

// servingFlags are the serving policy's flags: a policy file, and flags that override
// its fields one by one.
type servingFlags struct {
	file                                        string
	mode                                        string
	rules                                       []string
	clusterDomain                               string
	serviceCIDRs, podCIDRs, forbidden, allowIPs []string
	dnsSuffixes, dnsPatterns                    []string
	maxSANs                                     int
	maxExpirationSeconds                        int32
}

func (s *servingFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&s.file, "serving-policy-file", "", "YAML file of the servingapproving policy (approve.ServingPolicy); the --serving-* flags below override its fields")
	fs.StringVar(&s.mode, "serving-policy-mode", "", "mode of every serving rule not set by --serving-rules: Enforce (default) or Audit (report \"would deny\" while the base rules decide)")
	fs.StringSliceVar(&s.rules, "serving-rules", nil, "Rule=Mode pairs (Enforce, Audit, Disabled) for single serving rules, e.g. UniqueAddress=Disabled; rules: "+strings.Join(ruleNames(), ", "))
	fs.StringVar(&s.clusterDomain, "cluster-domain", "", "cluster DNS domain, for the refused name kubernetes.default.svc.<domain> (default "+approve.DefaultClusterDomain+")")
	fs.StringSliceVar(&s.serviceCIDRs, "serving-service-cidrs", nil, "Service ranges refused in serving certificates, besides the cluster's ServiceCIDR objects")
	fs.StringSliceVar(&s.podCIDRs, "serving-pod-cidrs", nil, "Pod ranges refused in serving certificates, besides the Nodes' spec.podCIDRs")
	fs.StringSliceVar(&s.forbidden, "serving-forbidden-cidrs", nil, "further ranges refused in serving certificates")
	fs.StringSliceVar(&s.allowIPs, "serving-allowed-ip-prefixes", nil, "when set, every IP in a serving certificate must be in one of these ranges")
	fs.StringSliceVar(&s.dnsSuffixes, "serving-allowed-dns-suffixes", nil, "when set (or --serving-allowed-dns-patterns), every DNS name in a serving certificate must be one of these domains or under one")
	fs.StringSliceVar(&s.dnsPatterns, "serving-allowed-dns-patterns", nil, "regular expressions a serving certificate's DNS names may match (whole name, lower case)")
	fs.IntVar(&s.maxSANs, "serving-max-sans", 0, "most subjectAltNames in a serving certificate; 0: no limit")
	fs.Int32Var(&s.maxExpirationSeconds, "serving-max-expiration-seconds", 0, "largest spec.expirationSeconds a serving CSR may ask for; 0: no limit")
}

func ruleNames() []string {
	var out []string
	for _, r := range approve.ServingRules() {
		out = append(out, string(r))
	}
	return out
}

// policy is the file's policy (or the default) with the flags that were set applied,
// validated.
func (s *servingFlags) policy(fs *pflag.FlagSet) (approve.ServingPolicy, error) {
	var p approve.ServingPolicy
	if s.file != "" {
		var err error
		if p, err = approve.LoadServingPolicy(s.file); err != nil {
			return p, err
		}
	}
	set := fs.Changed
	if set("serving-policy-mode") {
		p.DefaultMode = approve.RuleMode(s.mode)
	}
	if set("serving-rules") {
		for _, pair := range s.rules {
			rule, mode, ok := strings.Cut(pair, "=")
			if !ok {
				return p, fmt.Errorf("--serving-rules: %q is not Rule=Mode (e.g. %s=%s)", pair, approve.RuleUniqueAddress, approve.ModeDisabled)
			}
			if p.Rules == nil {
				p.Rules = map[approve.ServingRule]approve.RuleMode{}
			}
			p.Rules[approve.ServingRule(strings.TrimSpace(rule))] = approve.RuleMode(strings.TrimSpace(mode))
		}
	}
	if set("cluster-domain") {
		p.ClusterDomain = s.clusterDomain
	}
	for _, pf := range []struct {
		flag string
		in   []string
		out  *[]netip.Prefix
	}{
		{"serving-service-cidrs", s.serviceCIDRs, &p.ServiceCIDRs},
		{"serving-pod-cidrs", s.podCIDRs, &p.PodCIDRs},
		{"serving-forbidden-cidrs", s.forbidden, &p.ForbiddenCIDRs},
		{"serving-allowed-ip-prefixes", s.allowIPs, &p.AllowedIPPrefixes},
	} {
		if !set(pf.flag) {
			continue
		}
		*pf.out = nil
		for _, c := range pf.in {
			prefix, err := netip.ParsePrefix(strings.TrimSpace(c))
			if err != nil {
				return p, fmt.Errorf("--%s: %w", pf.flag, err)
			}
			*pf.out = append(*pf.out, prefix)
		}
	}
	if set("serving-allowed-dns-suffixes") {
		p.AllowedDNSSuffixes = s.dnsSuffixes
	}
	if set("serving-allowed-dns-patterns") {
		p.AllowedDNSPatterns = s.dnsPatterns
	}
	if set("serving-max-sans") {
		p.MaxSANs = s.maxSANs
	}
	if set("serving-max-expiration-seconds") {
		p.MaxExpirationSeconds = s.maxExpirationSeconds
	}
	return p, p.Validate()
}
