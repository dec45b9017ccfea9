package approve

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	certificatesv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/clock"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// Options configure NewApprover.
type Options struct {
	// Authorizer answers whether a requester may have a kind auto-approved. Required;
	// NewSARAuthorizer is Kubernetes' behaviour.
	Authorizer Authorizer
	// Serving, when set, turns on approval of kubelet serving CSRs (selfnodeserver), which
	// Kubernetes never approves. Off by default.
	Serving *ServingOptions
	// Clock stamps the conditions this approver writes. Default: the real clock.
	Clock clock.PassiveClock
}

// ServingOptions configure serving approval.
type ServingOptions struct {
	// Policy is what is allowed beyond SANs among the Node's own addresses; the zero
	// value enforces every rule.
	Policy ServingPolicy
	// Facts answer who holds each requested address. Required: NewClusterFacts in a
	// controller, StaticFacts in tests.
	Facts ServingFacts
}

// Approver decides what to do with a CSR and writes the decision.
type Approver struct {
	authorizer Authorizer
	serving    *servingPolicy // nil: serving approval off
	facts      ServingFacts
	clock      clock.PassiveClock
}

// NewApprover checks opts and returns an Approver.
func NewApprover(opts Options) (*Approver, error) {
	if opts.Authorizer == nil {
		return nil, errors.New("approve: Options.Authorizer is required")
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	a := &Approver{authorizer: opts.Authorizer, clock: opts.Clock}
	if opts.Serving != nil {
		if opts.Serving.Facts == nil {
			return nil, errors.New("approve: Options.Serving.Facts is required for serving approval")
		}
		p, err := opts.Serving.Policy.compile()
		if err != nil {
			return nil, fmt.Errorf("approve: %w", err)
		}
		a.serving, a.facts = p, opts.Serving.Facts
	}
	return a, nil
}

// ServingEnabled reports whether this approver handles kubelet serving CSRs.
func (a *Approver) ServingEnabled() bool { return a.serving != nil }

// Decide works out what to do with a CSR without writing anything: skip it when it is
// already approved, denied or issued; classify it; try each recognized kind in order with
// the Authorizer; the first allowed kind approves. Unauthorized CSRs are ignored with
// Requeue set, never denied. An error means the question could not be answered (the
// Authorizer or the Node lookup failed) and is worth retrying.
func (a *Approver) Decide(ctx context.Context, obj *certificatesv1.CertificateSigningRequest) (Decision, error) {
	if obj == nil {
		return Decision{}, errors.New("approve: nil CSR")
	}
	if d, done := alreadyDecided(obj); done {
		return d, nil
	}
	c, err := Classify(obj)
	if err != nil {
		return ignore(reasonInvalidRequest, err.Error(), false, err), nil
	}
	var tried, refusals []string
	for _, kind := range c.Kinds {
		if kind == KindSelfNodeServer && !a.ServingEnabled() {
			continue
		}
		allowed, reason, err := a.authorizer.Authorize(ctx, obj, kind)
		if err != nil {
			return Decision{}, fmt.Errorf("authorizing CSR %q as %s: %w", obj.Name, kind, err)
		}
		if !allowed {
			tried = append(tried, string(kind))
			if reason != "" {
				refusals = append(refusals, fmt.Sprintf("%s: %s", kind, reason))
			}
			continue
		}
		if kind == KindSelfNodeServer {
			return a.decideServing(ctx, obj, c)
		}
		return approval(kind), nil
	}
	if len(tried) > 0 {
		msg := fmt.Sprintf("recognized as %s but SubjectAccessReview did not allow it", strings.Join(tried, ", "))
		if len(refusals) > 0 {
			msg += " (" + strings.Join(refusals, "; ") + ")"
		}
		return ignore(reasonNotAuthorized, msg, true, nil), nil
	}
	return a.notRecognized(c), nil
}

func (a *Approver) notRecognized(c Classification) Decision {
	var why []*NotRecognizedError
	for _, e := range c.NotRecognized {
		if e.Kind != KindSelfNodeServer || a.ServingEnabled() {
			why = append(why, e)
		}
	}
	if !a.ServingEnabled() && c.Is(KindSelfNodeServer) {
		return ignore(reasonNotRecognized, "kubelet serving CSR, and serving approval is not enabled", false, nil)
	}
	parts := make([]string, 0, len(why))
	for _, e := range why {
		parts = append(parts, e.Error())
	}
	var cause error
	if len(why) > 0 {
		cause = why[0]
	}
	return ignore(reasonNotRecognized, strings.Join(parts, "; "), false, cause)
}

// decideServing judges an authorized selfnodeserver CSR under the serving policy: a
// broken base rule or an enforced rule denies, naming the rule and what holds the
// address; audited rules are reported in Decision.Audit. A Node that does not exist yet
// is waited for.
func (a *Approver) decideServing(ctx context.Context, obj *certificatesv1.CertificateSigningRequest, c Classification) (Decision, error) {
	nodeName := strings.TrimPrefix(c.Request.Subject.CommonName, csr.NodeUserPrefix)
	node, err := a.facts.getNode(ctx, nodeName)
	if apierrors.IsNotFound(err) {
		return ignore(reasonNodeNotFound, fmt.Sprintf("node %q does not exist (yet); its serving CSR waits for it", nodeName), true, err), nil
	}
	if err != nil {
		return Decision{}, fmt.Errorf("getting node %q for serving CSR %q: %w", nodeName, obj.Name, err)
	}
	enforced, audited := evaluateServing(a.serving, a.facts, node, c.Request, obj.Spec.ExpirationSeconds)
	if len(enforced) > 0 {
		v := enforced[0]
		msg := fmt.Sprintf("Denying kubelet serving certificate of node %q (rule %s): %s.", nodeName, v.Rule, v.Detail)
		if others := otherRules(v.Rule, enforced[1:]); others != "" {
			msg += " It also breaks rule(s) " + others + "."
		}
		return Decision{Action: ActionDeny, Kind: KindSelfNodeServer, Reason: ReasonAutoDenied,
			Message: msg, Cause: v, Audit: audited}, nil
	}
	d := approval(KindSelfNodeServer)
	d.Audit = audited
	return d, nil
}

// otherRules names the rules of further violations other than first, once each.
func otherRules(first ServingRule, vs []*ServingViolation) string {
	rules := []string{string(first)}
	for _, v := range vs {
		if !slices.Contains(rules, string(v.Rule)) {
			rules = append(rules, string(v.Rule))
		}
	}
	return strings.Join(rules[1:], ", ")
}

func approval(kind Kind) Decision {
	r, _ := recognizerFor(kind)
	return Decision{Action: ActionApprove, Kind: kind, Reason: ReasonAutoApproved, Message: r.message}
}

// alreadyDecided is the upstream skip: a CSR with a certificate, or already approved or
// denied, is left alone.
func alreadyDecided(obj *certificatesv1.CertificateSigningRequest) (Decision, bool) {
	switch st := csr.StateOf(obj); {
	case st.Issued:
		return ignore(reasonAlreadyIssued, "the CSR already holds a certificate", false, nil), true
	case st.Denied:
		return ignore(reasonAlreadyDenied, "the CSR is already denied", false, nil), true
	case st.Approved:
		return ignore(reasonAlreadyApproved, "the CSR is already approved", false, nil), true
	}
	return Decision{}, false
}
