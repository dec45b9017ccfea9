package conformance

import (
	"context"
	"crypto/sha256"
	"crypto/x509/pkix"
	"net"
	"slices"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
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
				t.observe(ctx, "a CSR without a grant to stay Pending (not Approved, not Denied)", []string{s.Name}, t.undecided)
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
					t.fatalf("expected the CSR to be created or refused as Forbidden/Invalid; the API server answered: %v", err)
				}
				t.approverControl(ctx)
				t.observe(ctx, "a CSR for another node's CN to stay unapproved", []string{s.Name}, t.undecided)
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
				t.observe(ctx, "a CSR whose "+n.what+" to stay unapproved", []string{s.Name}, t.undecided)
			},
		})
	}
	return append(cases, servingCases()...)
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
		t.fatalf("expected an Approved condition; saw %s", describeCSR(obj))
	}
	if c.Reason != reasonAutoApproved || c.Message != message {
		t.Errorf("expected Approved with reason %q and message %q; saw reason %q message %q", reasonAutoApproved, message, c.Reason, c.Message)
	}
}

func servingCases() []testCase {
	return []testCase{
		{
			Name: "serving-approved-with-node-sans", Profile: ProfileApprover, Features: []Feature{FeatureServingApproval},
			Description: "a node's kubelet-serving CSR whose DNS and IP SANs are among its Node's addresses is Approved",
			Run: func(ctx context.Context, t *caseT) {
				nodeName, own := t.servingNode(ctx)
				who := t.nodeRequester(ctx, nodeName, grantCreateCSR, grantSelfNodeServer)
				s := t.mustSubmitCSR(ctx, who, own)
				t.waitApproved(ctx, s.Name)
			},
		},
		{
			Name: "serving-foreign-san-not-approved", Profile: ProfileApprover, Features: []Feature{FeatureServingApproval},
			Description: "a node's kubelet-serving CSR with a DNS or IP SAN that is not its Node's address is not approved (denying it is allowed)",
			Run: func(ctx context.Context, t *caseT) {
				nodeName, own := t.servingNode(ctx)
				who := t.nodeRequester(ctx, nodeName, grantCreateCSR, grantSelfNodeServer)
				badDNS := t.mustSubmitCSR(ctx, who, servingRequest(nodeName, append(slices.Clone(own.DNSNames), "evil.example.com"), own.IPAddresses))
				badIP := t.mustSubmitCSR(ctx, who, servingRequest(nodeName, own.DNSNames, append(slices.Clone(own.IPAddresses), net.ParseIP("192.0.2.66"))))
				control := t.mustSubmitCSR(ctx, who, own)
				t.waitApproved(ctx, control.Name)
				t.observe(ctx, "serving CSRs with SANs outside the Node's addresses not to be approved", []string{badDNS.Name, badIP.Name}, t.notApproved)
			},
		},
	}
}

func servingRequest(nodeName string, dnsNames []string, ips []net.IP) csrRequest {
	return csrRequest{
		Subject:     pkix.Name{CommonName: nodeUser(nodeName), Organization: []string{"system:nodes"}},
		DNSNames:    dnsNames,
		IPAddresses: ips,
		SignerName:  certificatesv1.KubeletServingSignerName,
		Usages:      servingUsages,
	}
}

// servingNode creates a Node with a hostname and an InternalIP address of its own (a
// documentation address no other Node of the run holds), removed at cleanup, and returns
// the serving request a kubelet makes for those addresses (csr.NodeAddressSANs).
func (t *caseT) servingNode(ctx context.Context) (string, csrRequest) {
	name := t.uniqueName("node")
	sum := sha256.Sum256([]byte(name))
	ip := net.IP(append([]byte{0x20, 0x01, 0x0d, 0xb8}, sum[:12]...)) // in 2001:db8::/32
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: suiteLabels}}
	created, err := t.Client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil {
		t.fatalf("creating Node %s: %v", name, err)
	}
	t.Cleanup(func(ctx context.Context) error {
		return ignoreNotFound(t.Client.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{}))
	})
	created.Status.Addresses = []corev1.NodeAddress{
		{Type: corev1.NodeHostName, Address: name},
		{Type: corev1.NodeInternalIP, Address: ip.String()},
	}
	if _, err := t.Client.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.fatalf("setting the addresses of Node %s: %v", name, err)
	}
	dnsNames, ips := csr.NodeAddressSANs(created.Status.Addresses)
	return name, servingRequest(name, dnsNames, ips)
}
