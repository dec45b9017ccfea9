package approve

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
