package approve_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
)

// grants is a pure Authorizer: the kinds each user may have approved.
type grants map[string][]approve.Kind

func (g grants) authorizer(asked *[]approve.Kind) approve.Authorizer {
	return approve.AuthorizerFunc(func(_ context.Context, obj *certificatesv1.CertificateSigningRequest, kind approve.Kind) (bool, string, error) {
		*asked = append(*asked, kind)
		if slices.Contains(g[obj.Spec.Username], kind) {
			return true, "", nil
		}
		return false, "no grant", nil
	})
}

func nodeWith(name string, addrs ...corev1.NodeAddress) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{Addresses: addrs}}
}

func TestDecide(t *testing.T) {
	n1 := nodeWith("n1",
		corev1.NodeAddress{Type: corev1.NodeHostName, Address: "n1"},
		corev1.NodeAddress{Type: corev1.NodeInternalDNS, Address: "n1.internal"},
		corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "10.0.0.1"},
		corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: "2001:db8::1"},
	)
	selfClient := func() *certificatesv1.CertificateSigningRequest {
		return csrObject("c", kubeletClientSigner, "system:node:n1", clientUsages, kubeletRequest("n1").pem(t))
	}
	serving := func(requester string, r request) *certificatesv1.CertificateSigningRequest {
		return csrObject("s", kubeletServingSigner, requester, servingUsages, r.pem(t))
	}
	approvedCSR := selfClient()
	approvedCSR.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue}}
	deniedCSR := selfClient()
	deniedCSR.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateDenied, Status: corev1.ConditionTrue}}
	issuedCSR := selfClient()
	issuedCSR.Status.Certificate = []byte("x")

	allClient := grants{"system:node:n1": {approve.KindSelfNodeClient, approve.KindNodeClient, approve.KindSelfNodeServer}}
	for _, tc := range []struct {
		name        string
		csr         *certificatesv1.CertificateSigningRequest
		grants      grants
		serving     bool
		wantAction  approve.Action
		wantKind    approve.Kind
		wantReason  string
		wantMessage string
		wantRequeue bool
		wantAsked   []approve.Kind
		wantCause   any // pointer to the typed cause wanted, for errors.As
	}{
		{name: "already approved", csr: approvedCSR, grants: allClient, wantAction: approve.ActionIgnore, wantReason: approve.ReasonAlreadyApproved},
		{name: "already denied", csr: deniedCSR, grants: allClient, wantAction: approve.ActionIgnore, wantReason: approve.ReasonAlreadyDenied},
		{name: "already issued", csr: issuedCSR, grants: allClient, wantAction: approve.ActionIgnore, wantReason: approve.ReasonAlreadyIssued},
		{name: "self renewal granted", csr: selfClient(), grants: allClient,
			wantAction: approve.ActionApprove, wantKind: approve.KindSelfNodeClient, wantReason: "AutoApproved",
			wantMessage: "Auto approving self kubelet client certificate after SubjectAccessReview.",
			wantAsked:   []approve.Kind{approve.KindSelfNodeClient}},
		{name: "self renewal with only the nodeclient grant", csr: selfClient(), grants: grants{"system:node:n1": {approve.KindNodeClient}},
			wantAction: approve.ActionApprove, wantKind: approve.KindNodeClient, wantReason: "AutoApproved",
			wantMessage: "Auto approving kubelet client certificate after SubjectAccessReview.",
			wantAsked:   []approve.Kind{approve.KindSelfNodeClient, approve.KindNodeClient}},
		{name: "no grant: ignored and requeued, never denied", csr: selfClient(), grants: grants{},
			wantAction: approve.ActionIgnore, wantReason: approve.ReasonNotAuthorized, wantRequeue: true,
			wantAsked: []approve.Kind{approve.KindSelfNodeClient, approve.KindNodeClient}},
		{name: "unrecognized: ignored, not requeued", csr: csrObject("u", "example.com/x", "system:node:n1", clientUsages, kubeletRequest("n1").pem(t)), grants: allClient,
			wantAction: approve.ActionIgnore, wantReason: approve.ReasonNotRecognized, wantCause: new(*approve.NotRecognizedError)},
		{name: "serving while disabled: not even asked", csr: serving("system:node:n1", kubeletRequest("n1").withDNS("n1")), grants: allClient,
			wantAction: approve.ActionIgnore, wantReason: approve.ReasonNotRecognized},
		{name: "serving with matching SANs", serving: true, csr: serving("system:node:n1", kubeletRequest("n1").withDNS("n1", "N1.internal").withIPs("10.0.0.1", "2001:db8::1")), grants: allClient,
			wantAction: approve.ActionApprove, wantKind: approve.KindSelfNodeServer, wantReason: "AutoApproved",
			wantAsked: []approve.Kind{approve.KindSelfNodeServer}},
		{name: "serving with another node's DNS name", serving: true, csr: serving("system:node:n1", kubeletRequest("n1").withDNS("n1", "n2")), grants: allClient,
			wantAction: approve.ActionDeny, wantKind: approve.KindSelfNodeServer, wantReason: "AutoDenied",
			wantMessage: `Denying kubelet serving certificate of node "n1" (rule OwnAddresses): DNS subjectAltName "n2" is not among the addresses of node "n1".`,
			wantAsked:   []approve.Kind{approve.KindSelfNodeServer}, wantCause: new(*approve.ServingViolation)},
		{name: "serving with another IP", serving: true, csr: serving("system:node:n1", kubeletRequest("n1").withIPs("10.0.0.2")), grants: allClient,
			wantAction: approve.ActionDeny, wantKind: approve.KindSelfNodeServer, wantReason: "AutoDenied",
			wantMessage: `Denying kubelet serving certificate of node "n1" (rule OwnAddresses): IP subjectAltName "10.0.0.2" is not among the addresses of node "n1".`,
			wantAsked:   []approve.Kind{approve.KindSelfNodeServer}, wantCause: new(*approve.ServingViolation)},
		{name: "serving without grant: ignored even with a bad SAN", serving: true, csr: serving("system:node:n1", kubeletRequest("n1").withDNS("n2")), grants: grants{},
			wantAction: approve.ActionIgnore, wantReason: approve.ReasonNotAuthorized, wantRequeue: true,
			wantAsked: []approve.Kind{approve.KindSelfNodeServer}},
		{name: "serving requested by another node", serving: true, csr: serving("system:node:n2", kubeletRequest("n1").withDNS("n1")), grants: grants{"system:node:n2": {approve.KindSelfNodeServer}},
			wantAction: approve.ActionIgnore, wantReason: approve.ReasonNotRecognized, wantCause: new(*approve.NotRecognizedError)},
		{name: "serving for a node not there yet", serving: true, csr: serving("system:node:n9", kubeletRequest("n9").withDNS("n9")), grants: grants{"system:node:n9": {approve.KindSelfNodeServer}},
			wantAction: approve.ActionIgnore, wantReason: approve.ReasonNodeNotFound, wantRequeue: true,
			wantAsked: []approve.Kind{approve.KindSelfNodeServer}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var asked []approve.Kind
			opts := approve.Options{Authorizer: tc.grants.authorizer(&asked)}
			if tc.serving {
				opts.Serving = &approve.ServingOptions{Facts: &approve.StaticFacts{Nodes: []*corev1.Node{n1}}}
			}
			a, err := approve.NewApprover(opts)
			if err != nil {
				t.Fatal(err)
			}
			d, err := a.Decide(context.Background(), tc.csr)
			if err != nil {
				t.Fatal(err)
			}
			if d.Action != tc.wantAction || d.Kind != tc.wantKind || d.Reason != tc.wantReason || d.Requeue != tc.wantRequeue {
				t.Errorf("got %+v\nwant action %s kind %q reason %s requeue %v", d, tc.wantAction, tc.wantKind, tc.wantReason, tc.wantRequeue)
			}
			if tc.wantMessage != "" && d.Message != tc.wantMessage {
				t.Errorf("message %q\nwant    %q", d.Message, tc.wantMessage)
			}
			if d.Message == "" {
				t.Error("empty message")
			}
			if !slices.Equal(asked, tc.wantAsked) {
				t.Errorf("authorizer asked %v, want %v", asked, tc.wantAsked)
			}
			if tc.wantCause != nil && !errors.As(d.Cause, tc.wantCause) {
				t.Errorf("cause %v (%T), want a %T", d.Cause, d.Cause, tc.wantCause)
			}
		})
	}
}

func TestDecideAuthorizerError(t *testing.T) {
	boom := errors.New("apiserver unreachable")
	a, err := approve.NewApprover(approve.Options{Authorizer: approve.AuthorizerFunc(
		func(context.Context, *certificatesv1.CertificateSigningRequest, approve.Kind) (bool, string, error) {
			return false, "", boom
		})})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Decide(context.Background(), csrObject("c", kubeletClientSigner, "system:node:n1", clientUsages, kubeletRequest("n1").pem(t)))
	if !errors.Is(err, boom) {
		t.Fatalf("Decide error = %v, want it to wrap %v", err, boom)
	}
}

func TestNewApproverRejectsBadOptions(t *testing.T) {
	allow := approve.AuthorizerFunc(func(context.Context, *certificatesv1.CertificateSigningRequest, approve.Kind) (bool, string, error) {
		return true, "", nil
	})
	for name, opts := range map[string]approve.Options{
		"no authorizer":         {},
		"serving without facts": {Authorizer: allow, Serving: &approve.ServingOptions{}},
		"serving with a bad policy": {Authorizer: allow, Serving: &approve.ServingOptions{Facts: &approve.StaticFacts{},
			Policy: approve.ServingPolicy{Rules: map[approve.ServingRule]approve.RuleMode{approve.RuleOwnAddresses: approve.ModeDisabled}}}},
	} {
		if _, err := approve.NewApprover(opts); err == nil {
			t.Errorf("%s: NewApprover accepted %+v", name, opts)
		}
	}
}
