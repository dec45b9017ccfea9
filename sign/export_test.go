package sign

// Names the external tests use; unexported for importers.

const LegacyUnknownSignerName = legacyUnknownSignerName

var CertificateTTL = certificateTTL

const RulePolicyUsage = rulePolicyUsage
const RulePolicyDNSName = rulePolicyDNSName
const RulePolicyIP = rulePolicyIP
const RulePolicyEmail = rulePolicyEmail

var MatchName = matchName

const SkipNotApproved = skipNotApproved
const SkipDenied = skipDenied
const SkipAlreadyFailed = skipAlreadyFailed
const SkipIssued = skipIssued
const SkipForeignSigner = skipForeignSigner

var ValidateRequest = validateRequest
