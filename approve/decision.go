package approve

import "fmt"

// Action is what a Decision does to a CSR.
type Action string

// The actions.
const (
	// ActionApprove adds the Approved condition.
	ActionApprove Action = "Approve"
	// ActionIgnore writes nothing; the CSR stays as it is (Pending, for a new one).
	ActionIgnore Action = "Ignore"
	// ActionDeny adds the Denied condition. Only serving CSRs that break an enforced
	// ServingRule are denied; lack of authorization never is.
	ActionDeny Action = "Deny"
)

// Reasons a Decision carries. The approve and deny ones are also the condition's reason.
const (
	reasonAlreadyApproved = "AlreadyApproved" // someone approved it before us
	reasonAlreadyDenied   = "AlreadyDenied"
	reasonAlreadyIssued   = "AlreadyIssued"  // it holds a certificate
	reasonInvalidRequest  = "InvalidRequest" // spec.request does not parse
	reasonNotRecognized   = "NotRecognized"  // of no kind this approver handles
	reasonNotAuthorized   = "NotAuthorized"  // recognized, but SubjectAccessReview said no
	reasonNodeNotFound    = "NodeNotFound"   // serving CSR for a Node that does not exist (yet)
	// reasonServingAudit is the Event reason of a serving rule in ModeAudit that a CSR
	// breaks: it would have been denied.
	reasonServingAudit = "ServingPolicyAudit"
)

// Decision is what the approver does with one CSR and why.
type Decision struct {
	Action Action
	// Kind is the kind the CSR was approved or denied as; empty when ignored.
	Kind Kind
	// Reason is a CamelCase word: ReasonAutoApproved, ReasonAutoDenied or one of the
	// Reason* constants for an ignore.
	Reason string
	// Message says why in a sentence; for approvals it is the condition's message.
	Message string
	// Requeue is set on ignores that may turn out differently later (no authorization
	// yet, Node not there yet): a controller retries them with backoff.
	Requeue bool
	// Cause, when set, is the typed reason behind the decision: a *ServingViolation for a
	// denial, a *NotRecognizedError for an unrecognized CSR, the parse error for an
	// invalid request.
	Cause error
	// Audit lists the serving rules in ModeAudit this CSR breaks: "would deny" findings
	// that did not decide.
	Audit []*ServingViolation
}

func (d Decision) String() string {
	if d.Kind != "" {
		return fmt.Sprintf("%s %s (%s): %s", d.Action, d.Kind, d.Reason, d.Message)
	}
	return fmt.Sprintf("%s (%s): %s", d.Action, d.Reason, d.Message)
}

func ignore(reason, message string, requeue bool, cause error) Decision {
	return Decision{Action: ActionIgnore, Reason: reason, Message: message, Requeue: requeue, Cause: cause}
}
