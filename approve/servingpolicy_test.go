package approve_test

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

var allowAll = approve.AuthorizerFunc(func(context.Context, *certificatesv1.CertificateSigningRequest, approve.Kind) (bool, string, error) {
	return true, "", nil
})

func address(typ corev1.NodeAddressType, v string) corev1.NodeAddress {
	return corev1.NodeAddress{Type: typ, Address: v}
}

// TestServingRules judges one request per row under a policy against fixed facts: which
// rule denies it, or that it is approved; pure, no API server.
func TestServingRules(t *testing.T) {
	worker := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "worker"}, Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{
		address(corev1.NodeHostName, "worker"),
		address(corev1.NodeInternalIP, "192.0.2.10"),
		address(corev1.NodeInternalIP, "2001:db8::10"),
		address(corev1.NodeExternalDNS, "Worker.Example.com"),
		// What the worker claims but is not its own:
		address(corev1.NodeInternalIP, "192.0.2.20"),        // other's IP
		address(corev1.NodeExternalIP, "::ffff:192.0.2.21"), // other's second IP, IPv4-mapped
		address(corev1.NodeInternalDNS, "other"),            // other's name
		address(corev1.NodeInternalIP, "10.96.0.1"),         // the kubernetes Service
		address(corev1.NodeInternalIP, "10.96.5.5"),         // in the Service CIDR
		address(corev1.NodeInternalIP, "10.244.1.7"),        // in other's Pod CIDR
		address(corev1.NodeInternalIP, "127.0.0.1"),
		address(corev1.NodeInternalIP, "::1"),
		address(corev1.NodeInternalIP, "0.0.0.0"),
		address(corev1.NodeExternalIP, "169.254.169.254"),
		address(corev1.NodeInternalIP, "fe80::1"),
		address(corev1.NodeInternalIP, "224.0.0.1"),
		address(corev1.NodeInternalIP, "198.51.100.1"), // the API server's endpoint
		address(corev1.NodeInternalIP, "203.0.113.9"),  // forbidden by the operator below
		address(corev1.NodeInternalDNS, "api.example.com"),
		address(corev1.NodeInternalDNS, "*.example.com"),
		address(corev1.NodeInternalDNS, "localhost"),
		address(corev1.NodeInternalDNS, "app.localhost"),
		address(corev1.NodeInternalDNS, "kubernetes"),
		address(corev1.NodeInternalDNS, "kubernetes.default"),
		address(corev1.NodeInternalDNS, "kubernetes.default.svc"),
		address(corev1.NodeInternalDNS, "kubernetes.default.svc.corp.local"),
		address(corev1.NodeInternalDNS, "under_score.example.com"),
		address(corev1.NodeInternalDNS, "127.0.0.1"),  // IP literals as DNS names:
		address(corev1.NodeExternalDNS, "192.0.2.20"), // judged as the IPs they are too
		address(corev1.NodeInternalDNS, "192.0.2.10"),
	}}}
	other := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "other"},
		Spec: corev1.NodeSpec{PodCIDRs: []string{"10.244.1.0/24"}},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{
			address(corev1.NodeHostName, "other-host"), address(corev1.NodeInternalIP, "192.0.2.20"), address(corev1.NodeInternalIP, "192.0.2.21")}}}
	controlPlane := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "cp", Labels: map[string]string{approve.ControlPlaneLabel: ""}},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{
			address(corev1.NodeHostName, "cp"), address(corev1.NodeInternalIP, "198.51.100.1"), address(corev1.NodeInternalDNS, "api.example.com")}}}
	facts := &approve.StaticFacts{
		Nodes:                    []*corev1.Node{worker, other, controlPlane},
		KubernetesServiceIPs:     []netip.Addr{netip.MustParseAddr("10.96.0.1")},
		ServiceCIDRs:             []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
		APIServerIPs:             []netip.Addr{netip.MustParseAddr("198.51.100.1")},
		APIServerCertificateSANs: []csr.SAN{csr.DNSSAN("api.example.com")},
	}
	base := approve.ServingPolicy{ClusterDomain: "corp.local", ForbiddenCIDRs: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}}
	with := func(f func(p *approve.ServingPolicy)) approve.ServingPolicy {
		p := base
		f(&p)
		return p
	}
	off := func(rules ...approve.ServingRule) approve.ServingPolicy {
		return with(func(p *approve.ServingPolicy) {
			p.Rules = map[approve.ServingRule]approve.RuleMode{}
			for _, r := range rules {
				p.Rules[r] = approve.ModeDisabled
			}
		})
	}
	for _, tc := range []struct {
		name      string
		node      string // default worker
		policy    approve.ServingPolicy
		dns, ips  []string
		expSecs   int32
		wantRule  approve.ServingRule // "" = approved
		wantAudit []approve.ServingRule
		wantInMsg string
	}{
		{name: "own addresses", dns: []string{"worker", "worker.example.com"}, ips: []string{"192.0.2.10", "2001:db8::10"}},
		{name: "own DNS name in another case", dns: []string{"WORKER.EXAMPLE.COM"}, ips: []string{"192.0.2.10"}},
		{name: "not listed at all", ips: []string{"192.0.2.99"}, wantRule: approve.RuleOwnAddresses, wantInMsg: `"192.0.2.99"`},
		{name: "another node's IP", ips: []string{"192.0.2.20"}, wantRule: approve.RuleUniqueAddress, wantInMsg: `node "other"`},
		{name: "another node's IP listed IPv4-mapped", ips: []string{"192.0.2.21"}, wantRule: approve.RuleUniqueAddress, wantInMsg: `node "other"`},
		{name: "another node's name", dns: []string{"other"}, wantRule: approve.RuleUniqueAddress},
		{name: "shared on purpose", policy: off(approve.RuleUniqueAddress), ips: []string{"192.0.2.20"}},
		{name: "kubernetes Service IP", ips: []string{"10.96.0.1"}, wantRule: approve.RuleServiceAddress, wantInMsg: "default/kubernetes"},
		{name: "in a ServiceCIDR", ips: []string{"10.96.5.5"}, wantRule: approve.RuleServiceAddress, wantInMsg: "10.96.0.0/16"},
		{name: "in a configured Service CIDR", policy: with(func(p *approve.ServingPolicy) { p.ServiceCIDRs = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/28")} }),
			ips: []string{"192.0.2.10"}, wantRule: approve.RuleServiceAddress, wantInMsg: "serviceCIDRs"},
		{name: "in another node's Pod CIDR", ips: []string{"10.244.1.7"}, wantRule: approve.RulePodAddress, wantInMsg: `10.244.1.0/24 of node "other"`},
		{name: "in a configured Pod CIDR", policy: with(func(p *approve.ServingPolicy) { p.PodCIDRs = []netip.Prefix{netip.MustParsePrefix("2001:db8::/64")} }),
			ips: []string{"2001:db8::10"}, wantRule: approve.RulePodAddress},
		{name: "loopback", ips: []string{"127.0.0.1"}, wantRule: approve.RuleSpecialAddress, wantInMsg: "loopback"},
		{name: "IPv6 loopback", ips: []string{"::1"}, wantRule: approve.RuleSpecialAddress},
		{name: "unspecified", ips: []string{"0.0.0.0"}, wantRule: approve.RuleSpecialAddress},
		{name: "metadata service", ips: []string{"169.254.169.254"}, wantRule: approve.RuleSpecialAddress, wantInMsg: "link-local"},
		{name: "IPv6 link-local", ips: []string{"fe80::1"}, wantRule: approve.RuleSpecialAddress},
		{name: "multicast", ips: []string{"224.0.0.1"}, wantRule: approve.RuleSpecialAddress},
		{name: "forbidden by the operator", ips: []string{"203.0.113.9"}, wantRule: approve.RuleForbiddenAddress, wantInMsg: "203.0.113.0/24"},
		// The worker lists the control-plane node's addresses too: without the uniqueness
		// rule, the API server rule still refuses them to the worker alone.
		{name: "API server endpoint on a worker", policy: off(approve.RuleUniqueAddress), ips: []string{"198.51.100.1"},
			wantRule: approve.RuleAPIServerAddress, wantInMsg: approve.ControlPlaneLabel},
		{name: "API server certificate name on a worker", policy: off(approve.RuleUniqueAddress), dns: []string{"api.example.com"}, wantRule: approve.RuleAPIServerAddress},
		{name: "API server addresses on a control-plane node", node: "cp", policy: off(approve.RuleUniqueAddress), dns: []string{"api.example.com"}, ips: []string{"198.51.100.1"}},
		{name: "a worker claiming the control plane's address blocks it", node: "cp", ips: []string{"198.51.100.1"}, wantRule: approve.RuleUniqueAddress, wantInMsg: `node "worker"`},
		{name: "wildcard", dns: []string{"*.example.com"}, wantRule: approve.RuleDNSName, wantInMsg: "wildcard"},
		{name: "localhost", dns: []string{"localhost"}, wantRule: approve.RuleDNSName},
		{name: "*.localhost", dns: []string{"app.localhost"}, wantRule: approve.RuleDNSName},
		{name: "kubernetes", dns: []string{"kubernetes"}, wantRule: approve.RuleDNSName},
		{name: "kubernetes.default", dns: []string{"kubernetes.default"}, wantRule: approve.RuleDNSName},
		{name: "kubernetes.default.svc", dns: []string{"kubernetes.default.svc"}, wantRule: approve.RuleDNSName},
		{name: "kubernetes.default.svc.<cluster domain>", dns: []string{"kubernetes.default.svc.corp.local"}, wantRule: approve.RuleDNSName},
		{name: "loopback as a DNS name", dns: []string{"127.0.0.1"}, wantRule: approve.RuleSpecialAddress},
		{name: "another node's IP as a DNS name", dns: []string{"192.0.2.20"}, wantRule: approve.RuleUniqueAddress, wantInMsg: `DNS 192.0.2.20 names an IP: IP 192.0.2.20 is also an address of node "other"`},
		{name: "own IP as a DNS name", dns: []string{"192.0.2.10"}, ips: []string{"192.0.2.10"}},
		{name: "not DNS-1123", dns: []string{"under_score.example.com"}, wantRule: approve.RuleDNSName, wantInMsg: "DNS-1123"},
		{name: "allowed IP prefixes", policy: with(func(p *approve.ServingPolicy) {
			p.AllowedIPPrefixes = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
		}),
			ips: []string{"192.0.2.10", "2001:db8::10"}, wantRule: approve.RuleAllowedAddress, wantInMsg: "2001:db8::10"},
		{name: "allowed DNS suffix", policy: with(func(p *approve.ServingPolicy) { p.AllowedDNSSuffixes = []string{"example.com"} }),
			dns: []string{"worker.example.com"}},
		{name: "outside allowed DNS suffix and pattern", policy: with(func(p *approve.ServingPolicy) {
			p.AllowedDNSSuffixes, p.AllowedDNSPatterns = []string{"example.com"}, []string{"w[a-z]+-[0-9]+"}
		}), dns: []string{"worker"}, wantRule: approve.RuleAllowedAddress},
		{name: "allowed DNS pattern", policy: with(func(p *approve.ServingPolicy) { p.AllowedDNSPatterns = []string{"work.r"} }), dns: []string{"worker"}},
		{name: "too many SANs", policy: with(func(p *approve.ServingPolicy) { p.MaxSANs = 1 }),
			dns: []string{"worker"}, ips: []string{"192.0.2.10"}, wantRule: approve.RuleMaxSANs},
		{name: "lifetime above the maximum", policy: with(func(p *approve.ServingPolicy) { p.MaxExpirationSeconds = 3600 }),
			ips: []string{"192.0.2.10"}, expSecs: 7200, wantRule: approve.RuleMaxLifetime},
		{name: "lifetime within the maximum", policy: with(func(p *approve.ServingPolicy) { p.MaxExpirationSeconds = 3600 }),
			ips: []string{"192.0.2.10"}, expSecs: 1800},
		{name: "audit: reported, decided by the base rules", policy: with(func(p *approve.ServingPolicy) { p.DefaultMode = approve.ModeAudit }),
			ips: []string{"192.0.2.20", "127.0.0.1"}, wantAudit: []approve.ServingRule{approve.RuleUniqueAddress, approve.RuleSpecialAddress}},
		{name: "audit never lets a foreign SAN through", policy: with(func(p *approve.ServingPolicy) { p.DefaultMode = approve.ModeAudit }),
			ips: []string{"192.0.2.99"}, wantRule: approve.RuleOwnAddresses},
		{name: "one rule audited, the rest enforced", policy: with(func(p *approve.ServingPolicy) {
			p.Rules = map[approve.ServingRule]approve.RuleMode{approve.RuleSpecialAddress: approve.ModeAudit}
		}), ips: []string{"127.0.0.1", "192.0.2.20"}, wantRule: approve.RuleUniqueAddress, wantAudit: []approve.ServingRule{approve.RuleSpecialAddress}},
		{name: "several rules broken: the message names them all", ips: []string{"192.0.2.20", "127.0.0.1"},
			wantRule: approve.RuleUniqueAddress, wantInMsg: "also breaks rule(s) SpecialAddress"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			node, policy := tc.node, tc.policy
			if node == "" {
				node = "worker"
			}
			if reflect.DeepEqual(policy, approve.ServingPolicy{}) {
				policy = base
			}
			a, err := approve.NewApprover(approve.Options{Authorizer: allowAll, Serving: &approve.ServingOptions{Policy: policy, Facts: facts}})
			if err != nil {
				t.Fatal(err)
			}
			obj := csrObject("s", kubeletServingSigner, "system:node:"+node, servingUsages, kubeletRequest(node).withDNS(tc.dns...).withIPs(tc.ips...).pem(t))
			if tc.expSecs != 0 {
				obj.Spec.ExpirationSeconds = &tc.expSecs
			}
			d, err := a.Decide(context.Background(), obj)
			if err != nil {
				t.Fatal(err)
			}
			var v *approve.ServingViolation
			switch {
			case tc.wantRule == "" && d.Action != approve.ActionApprove:
				t.Fatalf("want approved, got %s", d)
			case tc.wantRule != "" && (d.Action != approve.ActionDeny || !errors.As(d.Cause, &v) || v.Rule != tc.wantRule):
				t.Fatalf("want denied by %s, got %s (cause %v)", tc.wantRule, d, d.Cause)
			}
			if tc.wantRule != "" && !strings.Contains(d.Message, "(rule "+string(tc.wantRule)+")") {
				t.Errorf("message %q does not name the rule", d.Message)
			}
			if !strings.Contains(d.Message, tc.wantInMsg) {
				t.Errorf("message %q lacks %q", d.Message, tc.wantInMsg)
			}
			var audited []approve.ServingRule
			for _, a := range d.Audit {
				audited = append(audited, a.Rule)
			}
			if strings.Join(ruleStrings(audited), ",") != strings.Join(ruleStrings(tc.wantAudit), ",") {
				t.Errorf("audit findings %v, want %v", audited, tc.wantAudit)
			}
		})
	}
}

func ruleStrings(rules []approve.ServingRule) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = string(r)
	}
	return out
}

// TestServingPolicyValidate: every bad setting is refused, naming its field.
func TestServingPolicyValidate(t *testing.T) {
	for _, tc := range []struct {
		policy approve.ServingPolicy
		want   string
	}{
		{approve.ServingPolicy{DefaultMode: "Sometimes"}, "defaultMode"},
		{approve.ServingPolicy{Rules: map[approve.ServingRule]approve.RuleMode{"NoSuchRule": approve.ModeDisabled}}, `unknown rule "NoSuchRule"`},
		{approve.ServingPolicy{Rules: map[approve.ServingRule]approve.RuleMode{approve.RuleDNSName: "off"}}, "rules[DNSName]"},
		{approve.ServingPolicy{Rules: map[approve.ServingRule]approve.RuleMode{approve.RuleOwnAddresses: approve.ModeAudit}}, "always enforced"},
		{approve.ServingPolicy{ClusterDomain: "Bad_Domain"}, "clusterDomain"},
		{approve.ServingPolicy{ForbiddenCIDRs: []netip.Prefix{{}}}, "forbiddenCIDRs[0]"},
		{approve.ServingPolicy{AllowedDNSSuffixes: []string{"example.com", "*.bad"}}, "allowedDNSSuffixes[1]"},
		{approve.ServingPolicy{AllowedDNSPatterns: []string{"("}}, "allowedDNSPatterns[0]"},
		{approve.ServingPolicy{MaxSANs: -1}, "maxSANs"},
		{approve.ServingPolicy{MaxExpirationSeconds: 60}, "maxExpirationSeconds"},
	} {
		err := tc.policy.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want an error naming %q", tc.policy, err, tc.want)
		}
	}
	if err := (&approve.ServingPolicy{}).Validate(); err != nil {
		t.Errorf("the zero policy: %v", err)
	}
}

func TestLoadServingPolicy(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p, err := approve.LoadServingPolicy(write("ok.yaml", `
defaultMode: Audit
rules:
  UniqueAddress: Disabled
clusterDomain: corp.local
forbiddenCIDRs: ["203.0.113.0/24", "2001:db8:bad::/48"]
allowedDNSSuffixes: [example.com]
maxSANs: 8
`))
	if err != nil {
		t.Fatal(err)
	}
	if approve.ModeOf(p, approve.RuleUniqueAddress) != approve.ModeDisabled || approve.ModeOf(p, approve.RuleDNSName) != approve.ModeAudit ||
		approve.ModeOf(p, approve.RuleOwnAddresses) != approve.ModeEnforce || len(p.ForbiddenCIDRs) != 2 || p.MaxSANs != 8 {
		t.Errorf("loaded %+v", p)
	}
	for name, body := range map[string]string{
		"unknown field": "forbiddenRanges: [10.0.0.0/8]\n",
		"bad prefix":    "forbiddenCIDRs: [10.0.0.300/8]\n",
		"bad mode":      "defaultMode: Loud\n",
	} {
		if _, err := approve.LoadServingPolicy(write(strings.ReplaceAll(name, " ", "-")+".yaml", body)); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	if _, err := approve.LoadServingPolicy(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("a missing file loaded")
	}
}
