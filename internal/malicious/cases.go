package malicious

import (
	"crypto/x509/pkix"
	"fmt"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
)

// build lists the corpus, category by category. Expectations follow Kubernetes' rules
// (kube-controller-manager's csrapproving and csrsigning): a bootstrap token may get a client certificate for any node name
// with the right subject, a node only for itself; extensions of a request are never copied.
func build(prefix string, env Env, plan *addrPlan, add func(Case, spec)) {
	n := func(s string) string { return prefix + "-" + s }
	client := func(name, cat string, as Identity, want Outcome) Case {
		return Case{Name: name, Category: cat, As: as, SignerName: kubeletClient, Usages: clientUsages, Want: want}
	}
	nodeSubject := func(node string) spec { return spec{cn: "system:node:" + node, orgs: nodesOrg} }

	// Baselines: what must work.
	add(client("baseline-bootstrap", "baseline", Bootstrapper, Signed), nodeSubject(n("base1")))
	add(client("baseline-node-renewal", "baseline", nodeID(n("base2")), Signed), nodeSubject(n("base2")))

	// Organizations.
	for i, orgs := range [][]string{
		nil, {"system:masters"}, {"system:nodes", "system:masters"}, {"system:masters", "system:nodes"},
		{"system:nodes", "system:nodes"}, {"System:Nodes"}, {"system:nodes "}, {"system:bootstrappers"}, {""},
	} {
		add(client(fmt.Sprintf("orgs-bootstrap-%d", i), "organizations", Bootstrapper, NotApproved), spec{cn: "system:node:" + n(fmt.Sprintf("org%d", i)), orgs: orgs})
	}
	add(client("orgs-node-renewal-masters", "organizations", nodeID(n("orgn")), NotApproved), spec{cn: "system:node:" + n("orgn"), orgs: []string{"system:nodes", "system:masters"}})
	// OU is not a group to Kubernetes: signed, and harmless.
	add(client("orgs-bootstrap-ou-masters", "organizations", Bootstrapper, Signed), spec{cn: "system:node:" + n("ou"), orgs: nodesOrg, ous: []string{"system:masters"}})

	// Common names: the rules check the system:node: prefix only (as upstream).
	for i, cn := range []string{"", "admin", "system:admin", "system:node", "system:nodes:x", "System:Node:x", " system:node:x", "system:kube-controller-manager", "system:serviceaccount:kube-system:default"} {
		add(client(fmt.Sprintf("cn-bootstrap-%d", i), "common names", Bootstrapper, NotApproved), spec{cn: cn, orgs: nodesOrg})
	}
	// An empty node name passes the upstream prefix rule: signed for user "system:node:",
	// which the Node authorizer gives no object.
	add(client("cn-bootstrap-empty-node-name", "common names", Bootstrapper, Signed), spec{cn: "system:node:", orgs: nodesOrg})

	// Nodes asking for other nodes (and for themselves without their group): NodeRestriction
	// refuses most at create; the approver must not approve what gets through.
	self := n("self")
	for i, other := range []string{n("other"), "", self + "x", "SYSTEM", n("self") + "\x00"} {
		add(client(fmt.Sprintf("node-asks-other-%d", i), "nodes asking for other nodes", nodeID(self), RejectedAtCreate|NotApproved), spec{cn: "system:node:" + other, orgs: nodesOrg})
	}
	add(client("node-without-group", "nodes asking for other nodes", Identity{User: "system:node:" + n("nogrp")}, RejectedAtCreate|NotApproved), nodeSubject(n("nogrp")))
	srvoTarget := NodeSpec{Name: n("srvo-target"), Addresses: []corev1.NodeAddress{internalIP(plan.v4()), hostname(n("srvo-target"))}}
	add(client("node-serving-for-other", "nodes asking for other nodes", nodeID(n("srvo")), RejectedAtCreate|NotApproved).withNodes(srvoTarget), spec{cn: "system:node:" + srvoTarget.Name, orgs: nodesOrg, ips: []string{srvoTarget.firstIP()}})

	// Every SAN type on a kubelet client request, from a bootstrapper and from the node.
	sans := map[string]spec{
		"dns":   {dns: []string{"kubernetes.default.svc"}},
		"ip":    {ips: []string{"10.0.0.1"}},
		"email": {emails: []string{"root@example.com"}},
		"uri":   {uris: []string{"spiffe://cluster/ns/kube-system/sa/admin"}},
	}
	for _, kind := range []string{"dns", "ip", "email", "uri"} {
		for who, as := range map[string]Identity{"bootstrap": Bootstrapper, "node": nodeID(n("san" + kind))} {
			s := sans[kind]
			s.cn, s.orgs = "system:node:"+n("san"+kind), nodesOrg
			add(client("san-client-"+kind+"-"+who, "subjectAltNames", as, NotApproved), s)
		}
	}

	// Serving requests: approved only for the node's own addresses. Each Node has its own
	// InternalIP (addrPlan): a shared one would be another Node's address (UniqueAddress).
	own := func(node string) NodeSpec {
		return NodeSpec{Name: node, Addresses: []corev1.NodeAddress{internalIP(plan.v4()), hostname(node)}}
	}
	serving := func(name string, node NodeSpec, want Outcome, s spec) {
		c := Case{Name: name, Category: "serving subjectAltNames", As: nodeID(node.Name), SignerName: kubeletServing, Usages: servingUsages, Want: want, Nodes: []NodeSpec{node}}
		s.cn, s.orgs = "system:node:"+node.Name, nodesOrg
		if s.orgsOverride != nil {
			s.orgs = s.orgsOverride
		}
		add(c, s)
	}
	ip := func(n NodeSpec) []string { return []string{n.firstIP()} }
	sv1, sv2, sv3, sv4, sv5, sv6, sv7 := own(n("sv1")), own(n("sv2")), own(n("sv3")), own(n("sv4")), own(n("sv5")), own(n("sv6")), own(n("sv7"))
	serving("serving-own-ip", sv1, Signed, spec{ips: ip(sv1)})
	serving("serving-own-hostname", sv2, Signed, spec{dns: []string{sv2.Name}})
	serving("serving-own-both", sv3, Signed, spec{dns: []string{sv3.Name}, ips: ip(sv3)})
	serving("serving-foreign-dns", sv4, NotApproved, spec{dns: []string{sv4.Name, "kubernetes.default.svc"}})
	serving("serving-foreign-ip", sv5, NotApproved, spec{ips: append(ip(sv5), "10.96.0.1")})
	serving("serving-wildcard", sv6, NotApproved, spec{dns: []string{"*." + sv6.Name}})
	serving("serving-localhost", sv7, NotApproved, spec{dns: []string{"localhost"}, ips: []string{"127.0.0.1"}})
	sv8, sv9, sv10, sv11, sv12 := own(n("sv8")), own(n("sv9")), own(n("sv10")), own(n("sv11")), own(n("sv12"))
	serving("serving-email", sv8, NotApproved, spec{ips: ip(sv8), emails: []string{"a@example.com"}})
	serving("serving-uri", sv9, NotApproved, spec{ips: ip(sv9), uris: []string{"https://evil.example"}})
	serving("serving-no-san", sv10, NotApproved, spec{})
	serving("serving-wrong-orgs", sv11, NotApproved, spec{ips: ip(sv11), orgsOverride: []string{"system:nodes", "system:masters"}})
	serving("serving-ca-true", sv12, Signed, spec{ips: ip(sv12), exts: []pkix.Extension{caTrueExt(3)}})
	sv13, sv14 := own(n("sv13")), own(n("sv14"))
	add(Case{Name: "serving-from-bootstrapper", Category: "serving subjectAltNames", As: Bootstrapper, SignerName: kubeletServing, Usages: servingUsages, Want: NotApproved, Nodes: []NodeSpec{sv13}},
		spec{cn: "system:node:" + sv13.Name, orgs: nodesOrg, ips: ip(sv13)})
	add(Case{Name: "serving-with-client-auth", Category: "serving subjectAltNames", As: nodeID(sv14.Name), SignerName: kubeletServing, Usages: []certificatesv1.KeyUsage{uDS, uSA, uCA}, Want: NotApproved, Nodes: []NodeSpec{sv14}},
		spec{cn: "system:node:" + sv14.Name, orgs: nodesOrg, ips: ip(sv14)})

	// Nodes listing addresses that are not theirs, and what real kubelets request.
	buildServingSpoofs(n, env, plan, add)
	buildKubeletShapes(n, plan, add)

	// Usages on the kubelet client signer.
	for i, c := range []struct {
		usages []certificatesv1.KeyUsage
		want   Outcome
	}{
		{[]certificatesv1.KeyUsage{uDS, uKE, uCA}, Signed},
		{[]certificatesv1.KeyUsage{uCA}, NotApproved},
		{[]certificatesv1.KeyUsage{uDS}, NotApproved},
		{[]certificatesv1.KeyUsage{uDS, uCA, uSA}, NotApproved},
		{[]certificatesv1.KeyUsage{uDS, uCA, certificatesv1.UsageCertSign}, NotApproved},
		{[]certificatesv1.KeyUsage{uDS, uCA, certificatesv1.UsageAny}, NotApproved},
		{[]certificatesv1.KeyUsage{uDS, uCA, certificatesv1.UsageCodeSigning}, NotApproved},
		{[]certificatesv1.KeyUsage{uDS, uCA, certificatesv1.UsageCRLSign}, NotApproved},
		{[]certificatesv1.KeyUsage{uDS, uCA, "telepathy"}, RejectedAtCreate},
		{[]certificatesv1.KeyUsage{uDS, uCA, uCA}, RejectedAtCreate},
		{nil, RejectedAtCreate | NotApproved},
	} {
		cs := client(fmt.Sprintf("usages-%d", i), "usages", Bootstrapper, c.want)
		cs.Usages = c.usages
		add(cs, nodeSubject(n(fmt.Sprintf("us%d", i))))
	}

	// Signer names.
	for i, c := range []struct {
		signer string
		want   Outcome
	}{
		{apiClient, NotApproved},
		{kubeletServing, NotApproved},
		{"kubernetes.io/legacy-unknown", RejectedAtCreate},
		{"", RejectedAtCreate},
		{"example.com/custom", NotApproved},
		{"kubernetes.io/kube-apiserver-client-kubelet-x", NotApproved},
		{"Kubernetes.io/kube-apiserver-client-kubelet", RejectedAtCreate | NotApproved},
		{"no-slash", RejectedAtCreate},
		{"kubernetes.io/", RejectedAtCreate},
	} {
		cs := client(fmt.Sprintf("signer-%d", i), "signer names", Bootstrapper, c.want)
		cs.SignerName = c.signer
		add(cs, nodeSubject(n(fmt.Sprintf("sg%d", i))))
	}

	// Identities without grants.
	add(client("identity-nobody", "identities without grants", Nobody, RejectedAtCreate), nodeSubject(n("id1")))
	add(client("identity-creator-only", "identities without grants", CreatorOnly, NotApproved), nodeSubject(n("id2")))
	add(client("identity-fake-bootstrap-group", "identities without grants", FakeBootstrapGroup, RejectedAtCreate), nodeSubject(n("id3")))
	add(client("identity-anonymous", "identities without grants", Identity{User: "system:anonymous", Groups: []string{"system:unauthenticated"}}, RejectedAtCreate), nodeSubject(n("id4")))
	add(client("identity-serviceaccount", "identities without grants", Identity{User: "system:serviceaccount:default:default", Groups: []string{"system:serviceaccounts"}}, RejectedAtCreate), nodeSubject(n("id5")))
	add(client("identity-creator-self-named", "identities without grants", CreatorOnly, NotApproved), spec{cn: "mallory", orgs: nodesOrg})

	// Extensions in the request: never copied, never a CA.
	for i, ext := range []pkix.Extension{caTrueExt(-1), caTrueExt(0), caTrueExt(10), keyUsageCertSign(), extKeyUsageAny(), mustExt(oidNameConstraints, true, struct{}{}), mustExt(oidPrivate, true, []byte("critical private extension"))} {
		s := nodeSubject(n(fmt.Sprintf("ext%d", i)))
		s.exts = []pkix.Extension{ext}
		add(client(fmt.Sprintf("extension-bootstrap-%d", i), "request extensions", Bootstrapper, Signed), s)
	}
	sNodeCA := nodeSubject(n("extn"))
	sNodeCA.exts = []pkix.Extension{caTrueExt(-1), keyUsageCertSign()}
	add(client("extension-node-renewal-ca", "request extensions", nodeID(n("extn")), Signed), sNodeCA)

	// Keys: the rules (as upstream) do not judge key strength; issued certificates must
	// still carry exactly the request's key.
	for _, k := range []keyKind{keyP224, keyP384, keyP521, keyRSA1024, keyRSA2048, keyEd25519} {
		s := nodeSubject(n("k" + string(k)))
		s.key = k
		add(client("key-bootstrap-"+string(k), "keys", Bootstrapper, Signed), s)
		s2 := nodeSubject(n("kn" + string(k)))
		s2.key = k
		add(client("key-node-"+string(k), "keys", nodeID(n("kn"+string(k))), Signed), s2)
	}

	// Oversized requests (~1 MiB): refused by the API server or signed without the bulk.
	big := nodeSubject(n("big1"))
	big.exts = []pkix.Extension{bigExt(1 << 20)}
	add(client("oversized-bootstrap", "oversized", Bootstrapper, RejectedAtCreate|Signed), big)
	bigOther := spec{cn: "system:node:" + n("big-other"), orgs: nodesOrg, exts: []pkix.Extension{bigExt(1 << 20)}}
	add(client("oversized-node-for-other", "oversized", nodeID(n("big2")), RejectedAtCreate|NotApproved), bigOther)
	many := nodeSubject(n("big3"))
	for i := 0; i < 2000; i++ {
		many.dns = append(many.dns, fmt.Sprintf("h%d.%s.example", i, n("big3")))
	}
	add(client("oversized-many-sans", "oversized", Bootstrapper, RejectedAtCreate|NotApproved), many)

	// Malformed PEM and tampered requests: never approved.
	for _, tm := range []tamper{tamperGarbage, tamperEmpty, tamperBadBase64, tamperTruncate, tamperCertType, tamperTwoBlocks, tamperWithKey, tamperSwapKey, tamperFlipSig} {
		s := nodeSubject(n("pem-" + string(tm)))
		s.tamper = tm
		add(client("pem-"+string(tm), "malformed PEM and signatures", Bootstrapper, RejectedAtCreate|NotApproved), s)
	}

	// Lifetimes.
	for i, c := range []struct {
		seconds int32
		want    Outcome
	}{{599, RejectedAtCreate}, {600, Signed}, {1 << 30, Signed}, {-1, RejectedAtCreate}, {0, RejectedAtCreate}} {
		cs := client(fmt.Sprintf("lifetime-%d", i), "lifetimes", Bootstrapper, c.want)
		cs.ExpirationSeconds = i32(c.seconds)
		add(cs, nodeSubject(n(fmt.Sprintf("lt%d", i))))
	}

	// A human approves blindly: the signer still enforces its rules and never issues a CA.
	adm := func(name, signer string, usages []certificatesv1.KeyUsage, want Outcome, s spec) {
		add(Case{Name: name, Category: "approved by an admin", As: CreatorOnly, SignerName: signer, Usages: usages, Want: want, AdminApproves: true}, s)
	}
	adm("admin-apiclient-ca-true", apiClient, clientUsages, Signed, spec{cn: "mallory", exts: []pkix.Extension{caTrueExt(5), keyUsageCertSign()}})
	adm("admin-apiclient-server-auth", apiClient, []certificatesv1.KeyUsage{uDS, uCA, uSA}, Approved, spec{cn: "mallory"})
	adm("admin-apiclient-cert-sign", apiClient, []certificatesv1.KeyUsage{uCA, certificatesv1.UsageCertSign}, Approved, spec{cn: "mallory"})
	adm("admin-kubelet-masters", kubeletClient, clientUsages, Approved, spec{cn: "system:node:" + n("adm1"), orgs: []string{"system:nodes", "system:masters"}})
	adm("admin-kubelet-dns", kubeletClient, clientUsages, Approved, spec{cn: "system:node:" + n("adm2"), orgs: nodesOrg, dns: []string{"kubernetes"}})
	adm("admin-serving-client-auth", kubeletServing, []certificatesv1.KeyUsage{uDS, uSA, uCA}, Approved, spec{cn: "system:node:" + n("adm3"), orgs: nodesOrg, ips: []string{plan.v4()}})
	adm("admin-kubelet-ok-ca-ext", kubeletClient, clientUsages, Signed, spec{cn: "system:node:" + n("adm4"), orgs: nodesOrg, exts: []pkix.Extension{caTrueExt(-1)}})
}

// withNodes marks a case as needing these Nodes.
func (c Case) withNodes(nodes ...NodeSpec) Case { c.Nodes = nodes; return c }
