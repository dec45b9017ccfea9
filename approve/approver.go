package approve

import (
	"context"
	"errors"
	"fmt"
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
	// EnableServing turns on approval of kubelet serving CSRs (selfnodeserver), which
	// Kubernetes never approves. Off by default.
	EnableServing bool
	// Nodes finds the Node whose addresses a serving CSR's subjectAltNames must be among.
	// Required when EnableServing is set.
	Nodes NodeGetter
	// Clock stamps the conditions this approver writes. Default: the real clock.
	Clock clock.PassiveClock
}

// Approver decides what to do with a CSR and writes the decision.
type Approver struct {
	authorizer    Authorizer
	enableServing bool
	nodes         NodeGetter
	clock         clock.PassiveClock
}

// NewApprover checks opts and returns an Approver.
func NewApprover(opts Options) (*Approver, error) {
	if opts.Authorizer == nil {
		return nil, errors.New("approve: Options.Authorizer is required")
	}
	if opts.EnableServing && opts.Nodes == nil {
		return nil, errors.New("approve: Options.Nodes is required when EnableServing is set")
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	return &Approver{authorizer: opts.Authorizer, enableServing: opts.EnableServing, nodes: opts.Nodes, clock: opts.Clock}, nil
}

// ServingEnabled reports whether this approver handles kubelet serving CSRs.
func (a *Approver) ServingEnabled() bool { return a.enableServing }

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
		return ignore(ReasonInvalidRequest, err.Error(), false, err), nil
	}
	var tried, refusals []string
	for _, kind := range c.Kinds {
		if kind == KindSelfNodeServer && !a.enableServing {
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
		return ignore(ReasonNotAuthorized, msg, true, nil), nil
	}
	return a.notRecognized(c), nil
}

func (a *Approver) notRecognized(c Classification) Decision {
	var why []*NotRecognizedError
	for _, e := range c.NotRecognized {
		if e.Kind != KindSelfNodeServer || a.enableServing {
			why = append(why, e)
		}
	}
	if !a.enableServing && c.Is(KindSelfNodeServer) {
		return ignore(ReasonNotRecognized, "kubelet serving CSR, and serving approval is not enabled", false, nil)
	}
	parts := make([]string, 0, len(why))
	for _, e := range why {
		parts = append(parts, e.Error())
	}
	var cause error
	if len(why) > 0 {
		cause = why[0]
	}
	return ignore(ReasonNotRecognized, strings.Join(parts, "; "), false, cause)
}

// decideServing checks an authorized selfnodeserver CSR's subjectAltNames against its
// Node's addresses: all there approves; one missing denies naming it.
func (a *Approver) decideServing(ctx context.Context, obj *certificatesv1.CertificateSigningRequest, c Classification) (Decision, error) {
	nodeName := strings.TrimPrefix(c.Request.Subject.CommonName, csr.NodeUserPrefix)
	node, err := a.nodes.GetNode(ctx, nodeName)
	if apierrors.IsNotFound(err) {
		return ignore(ReasonNodeNotFound, fmt.Sprintf("node %q does not exist (yet); its serving CSR waits for it", nodeName), true, err), nil
	}
	if err != nil {
		return Decision{}, fmt.Errorf("getting node %q for serving CSR %q: %w", nodeName, obj.Name, err)
	}
	if err := checkServingSANs(c.Request, node); err != nil {
		return Decision{Action: ActionDeny, Kind: KindSelfNodeServer, Reason: ReasonAutoDenied,
			Message: "Denying kubelet serving certificate: " + err.Error() + ".", Cause: err}, nil
	}
	return approval(KindSelfNodeServer), nil
}

func approval(kind Kind) Decision {
	r, _ := recognizerFor(kind)
	return Decision{Action: ActionApprove, Kind: kind, Reason: ReasonAutoApproved, Message: r.message}
}

// alreadyDecided is the upstream skip: a CSR with a certificate, or already approved or
// denied, is left alone.
func alreadyDecided(obj *certificatesv1.CertificateSigningRequest) (Decision, bool) {
	if len(obj.Status.Certificate) > 0 {
		return ignore(ReasonAlreadyIssued, "the CSR already holds a certificate", false, nil), true
	}
	for _, cond := range obj.Status.Conditions {
		switch cond.Type {
		case certificatesv1.CertificateApproved:
			return ignore(ReasonAlreadyApproved, "the CSR is already approved", false, nil), true
		case certificatesv1.CertificateDenied:
			return ignore(ReasonAlreadyDenied, "the CSR is already denied", false, nil), true
		}
	}
	return Decision{}, false
}
