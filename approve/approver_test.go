package approve_test

import (
	"context"
	"testing"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
)

// TestApproverAgainstAPIServer mirrors Kubernetes' approval tests (pkg/controller/certificates/approver/sarapprove_test.go) on a real
// API server: the server sets the requester, RBAC answers the SubjectAccessReviews and
// /approval stores the condition.
func TestApproverAgainstAPIServer(t *testing.T) {
	testenv.Need(t)
	ctx := context.Background()
	admin := cp.Client()
	facts := startFacts(t)
	approver, err := approve.NewApprover(approve.Options{
		Authorizer: approve.NewSARAuthorizer(admin, approve.SAROptions{CacheTTL: new(time.Duration(0))}),
		Serving:    &approve.ServingOptions{Facts: facts},
	})
	if err != nil {
		t.Fatal(err)
	}
	serverAuth := []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment, certificatesv1.UsageServerAuth}
	extraServerAuth := []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth, certificatesv1.UsageServerAuth}
	apiserverClient := []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}
	createNode(t, "sv1",
		corev1.NodeAddress{Type: corev1.NodeHostName, Address: "sv1"},
		corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "10.1.0.1"})
	createNode(t, "sv2",
		corev1.NodeAddress{Type: corev1.NodeHostName, Address: "sv2"},
		corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "10.1.0.2"}) // the other node whose IP sv1 must not get
	waitForNodes(t, facts, "sv1", "sv2")

	type requester int
	const (
		bootstrapper requester = iota // a bootstrap identity with the nodeclient grant
		selfNode                      // system:node:<name> with the selfnodeclient and selfnodeserver grants
		// NodeRestriction forbids a node to create a CSR for another node's CN, so the
		// "requester is not the CN" case is a bootstrap identity that holds the
		// selfnodeserver grant.
	)
	bootUser, bootGroups := bootstrapUser(t)
	grant(t, bootUser, bootGroups, approve.KindNodeClient)
	grant(t, bootUser, bootGroups, approve.KindSelfNodeServer)
	nodeGroups := []string{"system:nodes"}
	for _, n := range []string{"self1", "sv1"} {
		grant(t, "system:node:"+n, nodeGroups, approve.KindSelfNodeClient)
		grant(t, "system:node:"+n, nodeGroups, approve.KindSelfNodeServer)
	}

	for _, tc := range []struct {
		name        string
		as          requester
		node        string
		signer      string
		usages      []certificatesv1.KeyUsage
		req         request
		wantType    certificatesv1.RequestConditionType // "" = stays Pending
		wantMessage string
	}{
		{name: "valid kubelet CSR with the selfnodeclient grant", as: selfNode, node: "self1",
			signer: kubeletClientSigner, usages: clientUsages, req: kubeletRequest("self1"),
			wantType: certificatesv1.CertificateApproved, wantMessage: "Auto approving self kubelet client certificate after SubjectAccessReview."},
		{name: "CN not the requester with the nodeclient grant", as: bootstrapper,
			signer: kubeletClientSigner, usages: clientUsages, req: kubeletRequest("boot1"),
			wantType: certificatesv1.CertificateApproved, wantMessage: "Auto approving kubelet client certificate after SubjectAccessReview."},
		{name: "same CSR for another signer", as: bootstrapper,
			signer: certificatesv1.KubeAPIServerClientSignerName, usages: apiserverClient, req: kubeletRequest("boot1")},
		{name: "CN mike", as: bootstrapper, signer: kubeletClientSigner, usages: clientUsages, req: kubeletRequest("x").withCN("mike")},
		{name: "no organization", as: bootstrapper, signer: kubeletClientSigner, usages: clientUsages, req: kubeletRequest("x").withOrgs()},
		{name: "organization system:master", as: bootstrapper, signer: kubeletClientSigner, usages: clientUsages, req: kubeletRequest("x").withOrgs("system:master")},
		{name: "extra server auth usage", as: bootstrapper, signer: kubeletClientSigner, usages: extraServerAuth, req: kubeletRequest("x")},
		{name: "signer example.com/not-correct", as: bootstrapper, signer: "example.com/not-correct", usages: clientUsages, req: kubeletRequest("x")},
		{name: "signer kubelet-serving", as: bootstrapper, signer: kubeletServingSigner, usages: serverAuth, req: kubeletRequest("x").withDNS("x")},
		{name: "serving: matching SANs", as: selfNode, node: "sv1", signer: kubeletServingSigner, usages: serverAuth,
			req: kubeletRequest("sv1").withDNS("sv1").withIPs("10.1.0.1"), wantType: certificatesv1.CertificateApproved,
			wantMessage: "Auto approving self kubelet serving certificate after SubjectAccessReview and a check of its subjectAltNames against the Node's addresses."},
		{name: "serving: a SAN of another node", as: selfNode, node: "sv1", signer: kubeletServingSigner, usages: serverAuth,
			req: kubeletRequest("sv1").withDNS("sv1").withIPs("10.1.0.1", "10.1.0.2"), wantType: certificatesv1.CertificateDenied,
			wantMessage: `Denying kubelet serving certificate of node "sv1" (rule OwnAddresses): IP subjectAltName "10.1.0.2" is not among the addresses of node "sv1".`},
		{name: "serving: requester is not the CN", as: bootstrapper, signer: kubeletServingSigner, usages: serverAuth,
			req: kubeletRequest("sv1").withDNS("sv1")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var as = clientAs(t, bootUser, bootGroups...)
			if tc.as != bootstrapper {
				as = clientAs(t, "system:node:"+tc.node, nodeGroups...)
			}
			created := createCSR(t, as, tc.signer, tc.usages, tc.req)
			d, err := approver.Decide(ctx, created)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := approver.Apply(ctx, admin, created, d); err != nil {
				t.Fatal(err)
			}
			got := getCSR(t, created.Name)
			if tc.wantType == "" {
				if len(got.Status.Conditions) != 0 {
					t.Fatalf("want Pending (decision %s), got conditions %+v", d, got.Status.Conditions)
				}
				if d.Action != approve.ActionIgnore {
					t.Errorf("decision %s, want an ignore", d)
				}
				return
			}
			c := condition(got, tc.wantType)
			if c == nil {
				t.Fatalf("no %s condition (decision %s); conditions %+v", tc.wantType, d, got.Status.Conditions)
			}
			wantReason := approve.ReasonAutoApproved
			if tc.wantType == certificatesv1.CertificateDenied {
				wantReason = approve.ReasonAutoDenied
			}
			if c.Status != corev1.ConditionTrue || c.Reason != wantReason || c.Message != tc.wantMessage {
				t.Errorf("condition %s/%s reason %q message %q\nwant True reason %q message %q", c.Type, c.Status, c.Reason, c.Message, wantReason, tc.wantMessage)
			}
			// A second pass leaves the decided CSR alone.
			again, err := approver.Decide(ctx, got)
			if err != nil || again.Action != approve.ActionIgnore {
				t.Errorf("second Decide = %s, %v; want an ignore", again, err)
			}
		})
	}
}

// TestUnauthorizedStaysPending: without a grant the CSR is ignored, never denied; a node
// holds no approval right of its own (the Node authorizer grants none).
func TestUnauthorizedStaysPending(t *testing.T) {
	testenv.Need(t)
	ctx := context.Background()
	admin := cp.Client()
	approver, err := approve.NewApprover(approve.Options{Authorizer: approve.NewSARAuthorizer(admin, approve.SAROptions{})})
	if err != nil {
		t.Fatal(err)
	}
	bootUser, bootGroups := bootstrapUser(t)
	for _, tc := range []struct {
		name   string
		user   string
		groups []string
		node   string
	}{
		{"bootstrap identity", bootUser, bootGroups, "lonely"},
		{"node renewing itself", "system:node:ungranted", []string{"system:nodes"}, "ungranted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			created := createCSR(t, clientAs(t, tc.user, tc.groups...), kubeletClientSigner, clientUsages, kubeletRequest(tc.node))
			d, err := approver.Decide(ctx, created)
			if err != nil {
				t.Fatal(err)
			}
			if d.Action != approve.ActionIgnore || d.Reason != approve.ReasonNotAuthorized || !d.Requeue {
				t.Errorf("decision %s requeue %v, want an ignore NotAuthorized with requeue", d, d.Requeue)
			}
			if _, err := approver.Apply(ctx, admin, created, d); err != nil {
				t.Fatal(err)
			}
			if got := getCSR(t, created.Name); len(got.Status.Conditions) != 0 {
				t.Errorf("conditions %+v, want none", got.Status.Conditions)
			}
		})
	}
}
