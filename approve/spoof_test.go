package approve_test

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// spoof is a node that first lists an address that is not its own in its status, as
// NodeRestriction lets it, then asks a serving certificate for it.
type spoof struct {
	name     string
	address  corev1.NodeAddress
	san      func(r request) request
	wantRule approve.ServingRule
}

// spoofs are the attacks the serving threat model names, by a node whose own addresses
// are its name and ownIP; victim is another Node, kubernetesIP the kubernetes Service's.
func spoofs(victim, victimIP, kubernetesIP string) []spoof {
	ip := func(v string) func(request) request {
		return func(r request) request { r.ips = append(slices.Clone(r.ips), net.ParseIP(v)); return r }
	}
	dns := func(v string) func(request) request {
		return func(r request) request { r.dns = append(slices.Clone(r.dns), v); return r }
	}
	return []spoof{
		{"another node's IP", corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: victimIP}, ip(victimIP), approve.RuleUniqueAddress},
		{"another node's IP, IPv4-mapped", corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: "::ffff:" + victimIP}, ip(victimIP), approve.RuleUniqueAddress},
		{"another node's hostname", corev1.NodeAddress{Type: corev1.NodeInternalDNS, Address: victim}, dns(victim), approve.RuleUniqueAddress},
		{"the kubernetes Service IP", corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: kubernetesIP}, ip(kubernetesIP), approve.RuleServiceAddress},
		{"loopback", corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}, ip("127.0.0.1"), approve.RuleSpecialAddress},
		{"the metadata service", corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: "169.254.169.254"}, ip("169.254.169.254"), approve.RuleSpecialAddress},
		{"localhost", corev1.NodeAddress{Type: corev1.NodeInternalDNS, Address: "localhost"}, dns("localhost"), approve.RuleDNSName},
		{"a wildcard", corev1.NodeAddress{Type: corev1.NodeExternalDNS, Address: "*.example.com"}, dns("*.example.com"), approve.RuleDNSName},
		{"kubernetes.default.svc", corev1.NodeAddress{Type: corev1.NodeInternalDNS, Address: "kubernetes.default.svc"}, dns("kubernetes.default.svc"), approve.RuleDNSName},
	}
}

// TestServingSpoofing: by default a node that lists another node's IP or hostname, the
// kubernetes Service IP, 127.0.0.1 or 169.254.169.254 in its own status gets no serving
// certificate for it: Denied, the rule named in the condition and a Warning Event, while
// its own addresses are approved. In audit mode the same CSRs are reported ("would
// deny" Event and metric) and decided by the base rules.
func TestServingSpoofing(t *testing.T) {
	testenv.Need(t)
	ctx := context.Background()
	var kubernetesIP string // the API server creates its Service a moment after it starts
	waitFor(t, 20*time.Second, "the kubernetes Service", func() bool {
		svc, err := cp.Client().CoreV1().Services(metav1.NamespaceDefault).Get(ctx, "kubernetes", metav1.GetOptions{})
		if err == nil {
			kubernetesIP = svc.Spec.ClusterIP
		}
		return kubernetesIP != ""
	})
	createNode(t, "victim", corev1.NodeAddress{Type: corev1.NodeHostName, Address: "victim"},
		corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "192.0.2.21"})
	usages := []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth}

	for _, mode := range []approve.RuleMode{approve.ModeEnforce, approve.ModeAudit} {
		t.Run(string(mode), func(t *testing.T) {
			// One attacker node per mode, with every spoofed address in its status.
			attacker := "attacker-" + strings.ToLower(string(mode))
			ownIP := map[approve.RuleMode]string{approve.ModeEnforce: "192.0.2.22", approve.ModeAudit: "192.0.2.23"}[mode]
			addrs := []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: attacker}, {Type: corev1.NodeInternalIP, Address: ownIP}}
			cases := spoofs("victim", "192.0.2.21", kubernetesIP)
			for _, s := range cases {
				addrs = append(addrs, s.address)
			}
			createNode(t, attacker, addrs...)
			metrics := runController(t, &approve.ServingPolicy{DefaultMode: mode}, nil)
			node := "system:node:" + attacker
			grant(t, node, []string{"system:nodes"}, approve.KindSelfNodeServer)
			as := clientAs(t, node, "system:nodes")
			own := kubeletRequest(attacker).withDNS(attacker).withIPs(ownIP)

			legit := createCSR(t, as, kubeletServingSigner, usages, own)
			created := make([]*certificatesv1.CertificateSigningRequest, len(cases))
			for i, s := range cases {
				created[i] = createCSR(t, as, kubeletServingSigner, usages, s.san(own))
			}
			decided := func(name string) *certificatesv1.CertificateSigningRequest {
				var got *certificatesv1.CertificateSigningRequest
				waitFor(t, 20*time.Second, "a decision on "+name, func() bool {
					got = getCSR(t, name)
					return len(got.Status.Conditions) > 0
				})
				return got
			}
			if c := condition(decided(legit.Name), certificatesv1.CertificateApproved); c == nil {
				t.Errorf("the node's own addresses were not approved: %+v", getCSR(t, legit.Name).Status.Conditions)
			}
			for i, s := range cases {
				got := decided(created[i].Name)
				switch mode {
				case approve.ModeEnforce:
					c := condition(got, certificatesv1.CertificateDenied)
					// The first violation is named with its rule, any further ones by rule.
					if c == nil || !strings.Contains(c.Message, string(s.wantRule)) {
						t.Errorf("%s: want Denied naming rule %s, got %+v", s.name, s.wantRule, got.Status.Conditions)
					}
				case approve.ModeAudit:
					if condition(got, certificatesv1.CertificateApproved) == nil {
						t.Errorf("%s: audit mode must leave the decision to the base rules (approve), got %+v", s.name, got.Status.Conditions)
					}
					waitFor(t, 10*time.Second, s.name+": a would-deny Event", func() bool {
						return hasEvent(eventsFor(t, got.Name), corev1.EventTypeWarning, approve.ReasonServingAudit, "rule "+string(s.wantRule))
					})
				}
			}
			metricMode := map[approve.RuleMode]string{approve.ModeEnforce: "enforce", approve.ModeAudit: "audit"}[mode]
			for _, rule := range []approve.ServingRule{approve.RuleUniqueAddress, approve.RuleServiceAddress, approve.RuleSpecialAddress, approve.RuleDNSName} {
				if n := sample(t, metrics, "tlsbootstrap_serving_policy_violations_total", map[string]string{"rule": string(rule), "mode": metricMode}); n < 1 {
					t.Errorf("violations of %s in mode %s = %v, want ≥ 1", rule, metricMode, n)
				}
			}
		})
	}
}

// TestServingControlPlaneNode: the API server's own addresses are refused to a worker
// but not to a Node labelled as control plane (which a kubelet cannot label itself).
func TestServingControlPlaneNode(t *testing.T) {
	testenv.Need(t)
	ctx := context.Background()
	facts := startFacts(t)
	// The API server's certificate names it localhost and 127.0.0.1 in envtest; its
	// EndpointSlice lists its advertise address. Take a name from the certificate.
	var apiName string
	waitFor(t, 20*time.Second, "the API server's certificate read", func() bool {
		for _, c := range approve.FactClaims(facts, csr.DNSSAN("localhost")) {
			if c.Kind == approve.ClaimAPIServerCertificate {
				apiName = "localhost"
			}
		}
		return apiName != ""
	})
	// Both nodes claim the name: only the API server rule is under test.
	policy := approve.ServingPolicy{Rules: map[approve.ServingRule]approve.RuleMode{
		approve.RuleDNSName: approve.ModeDisabled, approve.RuleUniqueAddress: approve.ModeDisabled}}
	for _, tc := range []struct {
		name, node   string
		controlPlane bool
		wantApproved bool
	}{
		{"worker", "cp-worker", false, false},
		{"control plane", "cp-master", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			createNode(t, tc.node, corev1.NodeAddress{Type: corev1.NodeHostName, Address: tc.node}, corev1.NodeAddress{Type: corev1.NodeInternalDNS, Address: apiName},
				corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: map[bool]string{false: "192.0.2.31", true: "192.0.2.32"}[tc.controlPlane]})
			if tc.controlPlane {
				n, err := cp.Client().CoreV1().Nodes().Get(ctx, tc.node, metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				n.Labels = map[string]string{approve.ControlPlaneLabel: ""}
				if _, err := cp.Client().CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			waitForNodes(t, facts, tc.node)
			waitFor(t, 10*time.Second, "the label in the facts", func() bool {
				n, err := approve.FactNode(facts, ctx, tc.node)
				_, labelled := n.Labels[approve.ControlPlaneLabel]
				return err == nil && labelled == tc.controlPlane
			})
			a, err := approve.NewApprover(approve.Options{
				Authorizer: approve.AuthorizerFunc(func(context.Context, *certificatesv1.CertificateSigningRequest, approve.Kind) (bool, string, error) {
					return true, "", nil
				}),
				Serving: &approve.ServingOptions{Policy: policy, Facts: facts},
			})
			if err != nil {
				t.Fatal(err)
			}
			obj := csrObject("cp", kubeletServingSigner, "system:node:"+tc.node, servingUsages, kubeletRequest(tc.node).withDNS(tc.node, apiName).pem(t))
			d, err := a.Decide(ctx, obj)
			if err != nil {
				t.Fatal(err)
			}
			if approved := d.Action == approve.ActionApprove; approved != tc.wantApproved {
				t.Errorf("decision %s, want approved=%v", d, tc.wantApproved)
			}
			if !tc.wantApproved && !strings.Contains(d.Message, "rule "+string(approve.RuleAPIServerAddress)) {
				t.Errorf("denial %q does not name rule %s", d.Message, approve.RuleAPIServerAddress)
			}
		})
	}
}
