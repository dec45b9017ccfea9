package approve

// Kind is a recognized kind of CSR. Its value is also the subresource of
// certificatesigningrequests that a SubjectAccessReview checks for it, so RBAC rules such
// as "create certificatesigningrequests/selfnodeclient" grant auto-approval of that kind.
type Kind string

// The recognized kinds, in the order the approver tries them.
const (
	// KindSelfNodeClient is a kubelet client certificate renewal: a kubelet client CSR
	// whose requester is the node named in its CN.
	KindSelfNodeClient Kind = "selfnodeclient"
	// KindNodeClient is a kubelet client certificate requested by anyone (typically a
	// bootstrap token identity) for some node.
	KindNodeClient Kind = "nodeclient"
	// KindSelfNodeServer is a kubelet serving certificate requested by the node named in
	// its CN. Kubernetes never auto-approves these; this package does when serving
	// approval is enabled (it is off by default).
	KindSelfNodeServer Kind = "selfnodeserver"
)

// Approval messages. The client ones are Kubernetes' own, word for word, so tools that
// read them see no difference.
const (
	// ReasonAutoApproved is the Approved condition's reason for every automatic approval.
	ReasonAutoApproved = "AutoApproved"
	// ReasonAutoDenied is the Denied condition's reason when a serving CSR breaks an
	// enforced ServingRule; the message names the rule.
	ReasonAutoDenied = "AutoDenied"

	messageSelfNodeClient = "Auto approving self kubelet client certificate after SubjectAccessReview."
	messageNodeClient     = "Auto approving kubelet client certificate after SubjectAccessReview."
	messageSelfNodeServer = "Auto approving self kubelet serving certificate after SubjectAccessReview and a check of its subjectAltNames against the Node's addresses."
)
