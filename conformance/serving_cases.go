package conformance

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net"
	"net/netip"
	"slices"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// servingCases are the serving profile: kubelet-shaped requests an approver must approve,
// and requests it must not (core: identity, usages, SANs outside the Node's addresses;
// extended, by feature: addresses the Node lists but provably does not own).
func servingCases() []testCase {
	var cases []testCase
	for _, s := range kubeletShapes() {
		cases = append(cases, testCase{
			Name: s.name + "-approved", Profile: ProfileServing, Core: true,
			Description: "a kubelet's serving CSR for a Node with " + s.what + " (SANs as the kubelet maps the Node's addresses) is Approved",
			Run: func(ctx context.Context, t *caseT) {
				name := t.uniqueName("node")
				who, request := t.kubeletNode(ctx, name, s.addresses(name))
				t.waitApproved(ctx, t.mustSubmitCSR(ctx, who, request).Name)
			},
		})
	}
	for _, r := range servingRefusals() {
		cases = append(cases, testCase{
			Name: r.name + "-not-approved", Profile: ProfileServing, Core: len(r.features) == 0, Features: r.features,
			Description: "a serving CSR " + r.what + " is not approved (Denied, or left Pending)",
			Run: func(ctx context.Context, t *caseT) {
				t.expectNotApproved(ctx, r.what, r.attempt(ctx, t))
			},
		})
	}
	return append(cases, auditCase())
}

// kubeletShape is a set of Node addresses a real kubelet reports.
type kubeletShape struct {
	name, what string
	addresses  func(node string) []corev1.NodeAddress
}

func kubeletShapes() []kubeletShape {
	return []kubeletShape{
		{"hostname-and-ipv4", "a hostname and an IPv4 InternalIP", ownAddresses},
		{"ipv6", "a hostname and an IPv6 InternalIP", func(n string) []corev1.NodeAddress {
			return []corev1.NodeAddress{hostname(n), {Type: corev1.NodeInternalIP, Address: ownIPv6(n)}}
		}},
		{"dual-stack", "a hostname, an IPv4 and an IPv6 InternalIP", func(n string) []corev1.NodeAddress {
			return append(ownAddresses(n), corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: ownIPv6(n)})
		}},
		{"ip-as-hostname", "an IP address as its Hostname (an IP SAN, not a DNS SAN)", func(n string) []corev1.NodeAddress {
			return []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: ownIPv4(n)}, {Type: corev1.NodeInternalIP, Address: ownIPv4(n)}}
		}},
		{"internal-and-external-dns", "InternalDNS, ExternalDNS and ExternalIP addresses", func(n string) []corev1.NodeAddress {
			return append(ownAddresses(n),
				corev1.NodeAddress{Type: corev1.NodeInternalDNS, Address: n + ".nodes.conformance.example"},
				corev1.NodeAddress{Type: corev1.NodeExternalDNS, Address: n + ".public.conformance.example"},
				corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: addressIn(servingIPv4Range, n+"/external").String()})
		}},
	}
}

// servingAttempt is a request that must not be approved and, to prove the approver is
// at work, a control request it must approve.
type servingAttempt struct {
	who, controlWho  *csrIdentity
	request, control csrRequest
}

// servingRefusal is a request the serving approver must not approve.
type servingRefusal struct {
	name, what string
	features   []Feature // none: a core case
	attempt    func(ctx context.Context, t *caseT) servingAttempt
}

func servingRefusals() []servingRefusal {
	refusals := []servingRefusal{
		{name: "another-node", what: "from one node for another node's name and addresses",
			attempt: func(ctx context.Context, t *caseT) servingAttempt {
				other := t.uniqueName("node")
				_, othersRequest := t.kubeletNode(ctx, other, ownAddresses(other))
				who, own := t.ownNode(ctx)
				return servingAttempt{who: who, request: othersRequest, control: own}
			}},
		{name: "non-node-requester", what: "for a node's name and addresses from a user outside system:nodes, granted create and selfnodeserver",
			attempt: func(ctx context.Context, t *caseT) servingAttempt {
				node, own := t.ownNode(ctx)
				return servingAttempt{who: t.plainRequester(ctx, grantCreateCSR, grantSelfNodeServer), request: own, controlWho: node, control: own}
			}},
		{name: "node-user-outside-nodes-group", what: "from the node's user name without the system:nodes group",
			attempt: func(ctx context.Context, t *caseT) servingAttempt {
				node, own := t.ownNode(ctx)
				group := "tlsbootstrap-conformance:" + t.uniqueName("group")
				who := t.impersonate(node.User, group)
				t.grantTo(ctx, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: who.User}, who, grantCreateCSR, grantSelfNodeServer)
				return servingAttempt{who: who, request: own, controlWho: node, control: own}
			}},
		{name: "client-usages", what: "that asks for client auth besides server auth",
			attempt: func(ctx context.Context, t *caseT) servingAttempt {
				who, own := t.ownNode(ctx)
				bad := own
				bad.Usages = append(slices.Clone(servingUsages), certificatesv1.UsageClientAuth)
				return servingAttempt{who: who, request: bad, control: own}
			}},
		{name: "foreign-ip", what: "with an IP SAN its Node does not list",
			attempt: func(ctx context.Context, t *caseT) servingAttempt {
				who, own := t.ownNode(ctx)
				bad := own
				bad.IPAddresses = append(slices.Clone(own.IPAddresses), net.ParseIP(addressIn(servingIPv4Range, t.uniqueName("foreign")).String()))
				return servingAttempt{who: who, request: bad, control: own}
			}},
		{name: "foreign-dns", what: "with a DNS SAN its Node does not list",
			attempt: func(ctx context.Context, t *caseT) servingAttempt {
				who, own := t.ownNode(ctx)
				bad := own
				bad.DNSNames = append(slices.Clone(own.DNSNames), t.uniqueName("foreign")+".nodes.conformance.example")
				return servingAttempt{who: who, request: bad, control: own}
			}},
	}
	return append(refusals, listedRefusals()...)
}

// listedRefusals are Nodes that list, besides their own, an address they provably do not
// own, and ask for all of them as their kubelet would.
func listedRefusals() []servingRefusal {
	type listed struct {
		name, what string
		feature    Feature
		typ        corev1.NodeAddressType
		address    func(ctx context.Context, t *caseT) string
	}
	fixed := func(a string) func(context.Context, *caseT) string {
		return func(context.Context, *caseT) string { return a }
	}
	table := []listed{
		{"another-nodes-ip", "an IP address another Node holds", FeatureServingUniqueAddresses, corev1.NodeExternalIP,
			func(ctx context.Context, t *caseT) string { return ownIPv4(t.otherNode(ctx)) }},
		{"another-nodes-name", "another Node's name as a DNS name", FeatureServingUniqueAddresses, corev1.NodeInternalDNS,
			func(ctx context.Context, t *caseT) string { return t.otherNode(ctx) }},
		{"kubernetes-service-ip", "the kubernetes Service IP", FeatureServingReservedAddresses, corev1.NodeInternalIP,
			func(ctx context.Context, t *caseT) string { return t.kubernetesServiceIP(ctx) }},
		{"loopback", "127.0.0.1", FeatureServingReservedAddresses, corev1.NodeInternalIP, fixed("127.0.0.1")},
		{"link-local", "the link-local metadata address 169.254.169.254", FeatureServingReservedAddresses, corev1.NodeExternalIP, fixed("169.254.169.254")},
		{"api-server-address", "an API server endpoint address, on a worker", FeatureServingReservedAddresses, corev1.NodeInternalIP,
			func(ctx context.Context, t *caseT) string { return t.apiServerAddress(ctx) }},
		{"wildcard-dns", "a wildcard DNS name", FeatureServingDNSRules, corev1.NodeExternalDNS,
			func(_ context.Context, t *caseT) string { return "*." + t.uniqueName("wild") + ".conformance.example" }},
		{"localhost-dns", "the DNS name localhost", FeatureServingDNSRules, corev1.NodeInternalDNS, fixed("localhost")},
		{"kubernetes-default-svc-dns", "the DNS name kubernetes.default.svc", FeatureServingDNSRules, corev1.NodeInternalDNS, fixed("kubernetes.default.svc")},
		{"outside-allowed-prefixes", "an IP outside Environment.ServingAllowedIPPrefixes (in 203.0.113.0/24)", FeatureServingAllowedPrefixes, corev1.NodeInternalIP,
			func(_ context.Context, t *caseT) string {
				return addressIn(servingOutsideRange, t.uniqueName("outside")).String()
			}},
	}
	refusals := make([]servingRefusal, len(table))
	for i, l := range table {
		refusals[i] = servingRefusal{name: l.name, what: "with " + l.what + ", listed by the Node", features: []Feature{l.feature},
			attempt: func(ctx context.Context, t *caseT) servingAttempt {
				return t.nodeListing(ctx, corev1.NodeAddress{Type: l.typ, Address: l.address(ctx, t)})
			}}
	}
	return refusals
}

// auditCase checks an approver's audit mode: a rule it audits reports and approves.
func auditCase() testCase {
	return testCase{
		Name: "audit-mode-approved-and-reported", Profile: ProfileServing, Features: []Feature{FeatureServingAuditMode},
		Description: "a serving CSR breaking only a rule in audit mode (an own address in Environment.ServingAuditedIPPrefixes) is Approved, and a Warning Event on the CSR reports it",
		Run: func(ctx context.Context, t *caseT) {
			name := t.uniqueName("node")
			audited := corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: addressIn(servingAuditedRange, name).String()}
			who, request := t.kubeletNode(ctx, name, append(ownAddresses(name), audited))
			s := t.mustSubmitCSR(ctx, who, request)
			t.waitApproved(ctx, s.Name)
			t.Eventually(ctx, "a Warning Event on CSR "+s.Name+" reporting the audited rule", func(ctx context.Context) (bool, string, error) {
				events, err := t.Client.CoreV1().Events(metav1.NamespaceAll).List(ctx, metav1.ListOptions{FieldSelector: fields.Set{
					"involvedObject.kind": "CertificateSigningRequest", "involvedObject.name": s.Name, "type": corev1.EventTypeWarning,
				}.String()})
				if err != nil {
					return false, err.Error(), nil
				}
				if len(events.Items) == 0 {
					return false, "no Warning Event on the CSR", nil
				}
				e := events.Items[0]
				t.noteObserved(fmt.Sprintf("Event %s: %s", e.Reason, e.Message))
				return true, "", nil
			})
		},
	}
}

// expectNotApproved submits the attempt's request and control, waits for the control to
// be approved (the approver is at work) and then watches the request for the
// observation window: Approved fails the case; Denied, left Pending, or refused by the
// API server at create all pass, and the report says which.
func (t *caseT) expectNotApproved(ctx context.Context, what string, a servingAttempt) {
	s, err := t.submitCSR(ctx, a.who, a.request)
	if apierrors.IsForbidden(err) || apierrors.IsInvalid(err) {
		t.noteObserved("Refused by the API server: " + err.Error())
		return
	}
	if err != nil {
		t.Fatalf("expected the CSR %s to be created or refused as Forbidden/Invalid; the API server answered: %v", what, err)
	}
	controlWho := a.controlWho
	if controlWho == nil {
		controlWho = a.who
	}
	control := t.mustSubmitCSR(ctx, controlWho, a.control)
	t.waitApproved(ctx, control.Name)
	t.observeCSRs(ctx, "CSR "+s.Name+" "+what+" not to be Approved", []string{s.Name}, t.notApproved)
	obj, err := t.getCSR(ctx, s.Name)
	if err != nil {
		t.Fatalf("reading CSR %s after the observation window: %v", s.Name, err)
	}
	if c := findCondition(obj, certificatesv1.CertificateDenied); c != nil {
		t.noteObserved(fmt.Sprintf("Denied (%s: %s)", c.Reason, c.Message))
		return
	}
	t.noteObserved(fmt.Sprintf("Pending after %s", t.Options.ObservationWindow))
}

// kubeletNode creates Node name with addresses (removed at cleanup) and returns the node
// as a requester, granted create and selfnodeserver, and the serving request its kubelet
// makes: CN system:node:<name>, O system:nodes, the kubelet's usages, and the SANs
// csr.NodeAddressSANs maps the addresses to, as the kubelet does.
func (t *caseT) kubeletNode(ctx context.Context, name string, addresses []corev1.NodeAddress) (*csrIdentity, csrRequest) {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: suiteLabels}}
	created, err := t.Client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating Node %s: %v", name, err)
	}
	t.cleanup(func(ctx context.Context) error {
		return ignoreNotFound(t.Client.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{}))
	})
	created.Status.Addresses = addresses
	if _, err := t.Client.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("setting the addresses of Node %s: %v", name, err)
	}
	dnsNames, ips := csr.NodeAddressSANs(addresses)
	return t.nodeRequester(ctx, name, grantCreateCSR, grantSelfNodeServer), servingRequest(name, dnsNames, ips)
}

// ownNode is a fresh Node with a hostname and an IPv4 address of its own.
func (t *caseT) ownNode(ctx context.Context) (*csrIdentity, csrRequest) {
	name := t.uniqueName("node")
	return t.kubeletNode(ctx, name, ownAddresses(name))
}

// nodeListing is a Node that lists extra among its own addresses and asks for all of
// them, as its kubelet would; the control asks for its own addresses only.
func (t *caseT) nodeListing(ctx context.Context, extra corev1.NodeAddress) servingAttempt {
	name := t.uniqueName("node")
	who, request := t.kubeletNode(ctx, name, append(ownAddresses(name), extra))
	dnsNames, ips := csr.NodeAddressSANs(ownAddresses(name))
	return servingAttempt{who: who, request: request, control: servingRequest(name, dnsNames, ips)}
}

// otherNode creates another Node with addresses of its own and returns its name.
func (t *caseT) otherNode(ctx context.Context) string {
	name := t.uniqueName("node")
	t.kubeletNode(ctx, name, ownAddresses(name))
	return name
}

// kubernetesServiceIP is the default/kubernetes Service's cluster IP, or the case is
// skipped.
func (t *caseT) kubernetesServiceIP(ctx context.Context) string {
	svc, err := t.Client.CoreV1().Services(metav1.NamespaceDefault).Get(ctx, "kubernetes", metav1.GetOptions{})
	if err != nil || svc.Spec.ClusterIP == "" {
		t.Skipf("the default/kubernetes Service has no cluster IP to try (%v)", err)
	}
	return svc.Spec.ClusterIP
}

// apiServerAddress is an address of the API server's endpoints (the default/kubernetes
// EndpointSlices), or the case is skipped.
func (t *caseT) apiServerAddress(ctx context.Context) string {
	slices, err := t.Client.DiscoveryV1().EndpointSlices(metav1.NamespaceDefault).List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=kubernetes"})
	if err == nil {
		for _, s := range slices.Items {
			for _, e := range s.Endpoints {
				if len(e.Addresses) > 0 {
					return e.Addresses[0]
				}
			}
		}
	}
	t.Skipf("the default/kubernetes EndpointSlices list no API server address to try (%v)", err)
	return ""
}

func servingRequest(nodeName string, dnsNames []string, ips []net.IP) csrRequest {
	return csrRequest{
		Subject:     nodeSubject(nodeName),
		DNSNames:    dnsNames,
		IPAddresses: ips,
		SignerName:  certificatesv1.KubeletServingSignerName,
		Usages:      servingUsages,
	}
}

func hostname(node string) corev1.NodeAddress {
	return corev1.NodeAddress{Type: corev1.NodeHostName, Address: node}
}

// ownAddresses are a Node's hostname and an IPv4 InternalIP no other Node of the run holds.
func ownAddresses(node string) []corev1.NodeAddress {
	return []corev1.NodeAddress{hostname(node), {Type: corev1.NodeInternalIP, Address: ownIPv4(node)}}
}

func ownIPv4(node string) string { return addressIn(servingIPv4Range, node).String() }
func ownIPv6(node string) string { return addressIn(servingIPv6Range, node).String() }

// addressIn derives an address in prefix from seed: the Nodes of a run get distinct
// addresses without coordinating (in the /10, two of a run's few dozen collide about
// once in ten thousand runs).
func addressIn(prefix netip.Prefix, seed string) netip.Addr {
	sum := sha256.Sum256([]byte(seed))
	b := prefix.Masked().Addr().AsSlice()
	for i := range b {
		kept := prefix.Bits() - 8*i // network bits in this byte
		switch {
		case kept >= 8:
			continue
		case kept <= 0:
			b[i] = sum[i]
		default:
			b[i] |= sum[i] & (0xff >> kept)
		}
	}
	addr, _ := netip.AddrFromSlice(b)
	return addr
}
