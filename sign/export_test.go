package sign

import (
	"crypto/x509"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
)

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

// What the external tests check of a Signer and a SignerPolicy, beyond the exported API.
var Validity = validity

func SignerPolicyOf(s *Signer, name string) (SignerPolicy, bool) { return s.policy(name) }
func PolicyCheck(p *SignerPolicy) error                          { return p.check() }
func PolicyValidate(p *SignerPolicy, req *x509.CertificateRequest, usages []certificatesv1.KeyUsage) error {
	return p.validateRequest(req, usages)
}
func PolicyIssue(p *SignerPolicy, ca *CA, req *certificatesv1.CertificateSigningRequest, now time.Time) ([]byte, error) {
	return p.issue(ca, req, now)
}

// ReloadError is the last failed reload of f, for the tests.
func ReloadError(f *FileCA) error { return f.reloadError() }
