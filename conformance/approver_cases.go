package conformance

import (
	"context"
	"net"

	certificatesv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// The approver's condition, as kube-controller-manager's csrapproving writes it.
const (
	reasonAutoApproved = "AutoApproved"
	messageNodeClient  = "Auto approving kubelet client certificate after SubjectAccessReview."
	messageSelfClient  = "Auto approving self kubelet client certificate after SubjectAccessReview."
)

func approverCases() []testCase {
	cases := []testCase{
		{
			Name: "nodeclient-approved", Profile: ProfileApprover, Core: true,
			Description: "a kubelet client CSR from a bootstrap identity with the nodeclient grant is Approved with reason AutoApproved and the upstream message",
			Run: func(ctx context.Context, t *caseT) {
				who := t.bootstrapRequester(ctx, grantCreateCSR, grantNodeClient)
				s := t.mustSubmitCSR(ctx, who, nodeClientRequest(t.uniqueName("node")))
				expectAutoApproved(t, t.waitApproved(ctx, s.Name), messageNodeClient)
			},
		},
		{
			Name: "no-grant-stays-pending", Profile: ProfileApprover, Core: true,
			Description: "a kubelet client CSR from a requester without an approval grant is neither Approved nor Denied",
			Run: func(ctx context.Context, t *caseT) {
				who := t.plainRequester(ctx, grantCreateCSR)
				s := t.mustSubmitCSR(ctx, who, nodeClientRequest(t.uniqueName("node")))
				t.approverControl(ctx)
				t.observeCSRs(ctx, "a CSR without a grant to stay Pending (not Approved, not Denied)", []string{s.Name}, t.undecided)
			},
		},
		{
			Name: "selfnodeclient-renewal-approved", Profile: ProfileApprover, Core: true,
			Description: "a node renewing its own client certificate with the selfnodeclient grant is Approved with the self-client message",
			Run: func(ctx context.Context, t *caseT) {
				nodeName := t.uniqueName("node")
				who := t.nodeRequester(ctx, nodeName, grantCreateCSR, grantSelfNodeClient)
				s := t.mustSubmitCSR(ctx, who, nodeClientRequest(nodeName))
				expectAutoApproved(t, t.waitApproved(ctx, s.Name), messageSelfClient)
			},
		},
		{
			Name: "selfnodeclient-other-node-not-approved", Profile: ProfileApprover, Core: true,
			Description: "a node with only the selfnodeclient grant asking for another node's CN is rejected at create (NodeRestriction) or not approved",
			Run: func(ctx context.Context, t *caseT) {
				nodeName := t.uniqueName("node")
				who := t.nodeRequester(ctx, nodeName, grantCreateCSR, grantSelfNodeClient)
				s, err := t.submitCSR(ctx, who, nodeClientRequest(nodeName+"-other"))
				if apierrors.IsForbidden(err) || apierrors.IsInvalid(err) {
					return // the API server refused it: as good as not approved
				}
				if err != nil {
					t.Fatalf("expected the CSR to be created or refused as Forbidden/Invalid; the API server answered: %v", err)
				}
				t.approverControl(ctx)
				t.observeCSRs(ctx, "a CSR for another node's CN to stay unapproved", []string{s.Name}, t.undecided)
			},
		},
	}
	for _, n := range recognizerNegatives() {
		cases = append(cases, testCase{
			Name: "not-recognized-" + n.name, Profile: ProfileApprover, Core: true,
			Description: "a CSR from a requester with the nodeclient grant is not approved when " + n.what,
			Run: func(ctx context.Context, t *caseT) {
				who := t.bootstrapRequester(ctx, grantCreateCSR, grantNodeClient)
				r := nodeClientRequest(t.uniqueName("node"))
				n.change(&r)
				s := t.mustSubmitCSR(ctx, who, r)
				t.approverControl(ctx)
				t.observeCSRs(ctx, "a CSR whose "+n.what+" to stay unapproved", []string{s.Name}, t.undecided)
			},
		})
	}
	return cases
}

type recognizerNegative struct {
	name, what string
	change     func(r *csrRequest)
}

// recognizerNegatives are the kubelet-client recognizer negatives of pkg/controller/certificates/approver/sarapprove_test.go.
func recognizerNegatives() []recognizerNegative {
	return []recognizerNegative{
		{"cn-without-node-prefix", `CN is "mike"`, func(r *csrRequest) { r.Subject.CommonName = "mike" }},
		{"no-organization", "subject has no Organization", func(r *csrRequest) { r.Subject.Organization = nil }},
		{"wrong-organization", "Organization is system:master", func(r *csrRequest) { r.Subject.Organization = []string{"system:master"} }},
		{"dns-san", "request has a DNS SAN", func(r *csrRequest) { r.DNSNames = []string{"node.example.com"} }},
		{"ip-san", "request has an IP SAN", func(r *csrRequest) { r.IPAddresses = []net.IP{net.ParseIP("10.0.0.1")} }},
		{"extra-usage", "usages add server auth", func(r *csrRequest) { r.Usages = append(r.Usages, certificatesv1.UsageServerAuth) }},
		{"foreign-signer", "signer is example.com/not-correct", func(r *csrRequest) { r.SignerName = "example.com/not-correct" }},
		{"serving-signer", "signer is kubernetes.io/kubelet-serving", func(r *csrRequest) { r.SignerName = certificatesv1.KubeletServingSignerName }},
	}
}

// approverControl submits a CSR the approver must approve and waits for it: proof that
// the approver is running, so that a CSR left undecided afterwards was looked at.
func (t *caseT) approverControl(ctx context.Context) {
	who := t.bootstrapRequester(ctx, grantCreateCSR, grantNodeClient)
	s := t.mustSubmitCSR(ctx, who, nodeClientRequest(t.uniqueName("control")))
	t.waitApproved(ctx, s.Name)
}

func expectAutoApproved(t *caseT, obj *certificatesv1.CertificateSigningRequest, message string) {
	c := findCondition(obj, certificatesv1.CertificateApproved)
	if c == nil {
		t.Fatalf("expected an Approved condition; saw %s", describeCSR(obj))
	}
	if c.Reason != reasonAutoApproved || c.Message != message {
		t.Errorf("expected Approved with reason %q and message %q; saw reason %q message %q", reasonAutoApproved, message, c.Reason, c.Message)
	}
}
