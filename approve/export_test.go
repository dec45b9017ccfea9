package approve

import (
	"context"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
	corev1 "k8s.io/api/core/v1"
)

// Names the external tests use; unexported for importers.
const ControlPlaneLabel = controlPlaneLabel
const DefaultManualApproveMessage = defaultManualApproveMessage
const DefaultManualApproveReason = defaultManualApproveReason
const ReasonAlreadyApproved = reasonAlreadyApproved
const ReasonAlreadyDenied = reasonAlreadyDenied
const ReasonAlreadyIssued = reasonAlreadyIssued
const ReasonNodeNotFound = reasonNodeNotFound
const ReasonNotAuthorized = reasonNotAuthorized
const ReasonNotRecognized = reasonNotRecognized
const ReasonServingAudit = reasonServingAudit
const RuleSignerName = ruleSignerName
const ClaimAPIServerCertificate = claimAPIServerCertificate
const ClaimAPIServerEndpoint = claimAPIServerEndpoint
const ClaimNode = claimNode
const ClaimPodCIDR = claimPodCIDR
const ClaimServiceCIDR = claimServiceCIDR
const ClaimServiceIP = claimServiceIP

type ClaimKind = claimKind
type AuthorizerFunc = authorizerFunc

// FactClaims and FactNode ask facts what the approver asks it.
func FactClaims(f ServingFacts, san csr.SAN) []addrClaim { return f.claims(san) }

func FactNode(f ServingFacts, ctx context.Context, name string) (*corev1.Node, error) {
	return f.getNode(ctx, name)
}

type Claim = addrClaim

const DefaultManualDenyReason = defaultManualDenyReason
const DefaultManualDenyMessage = defaultManualDenyMessage
const RuleRequesterIsSubject = ruleRequesterIsSubject

// ModeOf is the mode p gives rule, for the tests.
func ModeOf(p ServingPolicy, rule ServingRule) RuleMode { return p.modeOf(rule) }
