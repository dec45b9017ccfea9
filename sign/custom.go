package sign

import (
	"crypto/x509"
	"fmt"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
)

// addCustomSigners checks each policy and registers its CA and rules.
func (s *Signer) addCustomSigners(policies []SignerPolicy) error {
	for i := range policies {
		p := policies[i] // a copy: later changes to the caller's slice do not reach the Signer
		if err := p.check(); err != nil {
			return err
		}
		if _, dup := s.policies[p.SignerName]; dup {
			return fmt.Errorf("custom signer %q is configured twice", p.SignerName)
		}
		if p.MaxDuration == 0 || p.MaxDuration > s.duration {
			p.MaxDuration = s.duration
		}
		if s.policies == nil {
			s.policies = map[string]*SignerPolicy{}
		}
		s.policies[p.SignerName] = &p
		s.cas[p.SignerName] = p.CA
	}
	return nil
}

// Policy returns the policy of a custom signer the Signer serves, with MaxDuration
// resolved, or false for a built-in or unknown signer name.
func (s *Signer) policy(signerName string) (SignerPolicy, bool) {
	p, ok := s.policies[signerName]
	if !ok {
		return SignerPolicy{}, false
	}
	return *p, true
}

// issue signs req by the rules of its signer: a custom signer's policy and MaxDuration, or
// the built-in rules and the signing duration.
func (s *Signer) issue(ca *CA, req *certificatesv1.CertificateSigningRequest) ([]byte, error) {
	if p, ok := s.policies[req.Spec.SignerName]; ok {
		return p.issue(ca, req, s.now())
	}
	return Issue(ca, req, s.now(), s.duration)
}

// Issue signs req with ca if it is for this policy's signer and within the policy; the
// lifetime follows certificateTTL and Validity with MaxDuration (DefaultSigningDuration
// when unset) as the cap. A request outside the policy is a *ValidationError naming the
// offending usage or subjectAltName.
func (p *SignerPolicy) issue(ca *CA, req *certificatesv1.CertificateSigningRequest, now time.Time) ([]byte, error) {
	if req == nil {
		return nil, fmt.Errorf("issue: no CSR")
	}
	if req.Spec.SignerName != p.SignerName {
		return nil, fmt.Errorf("issue: CSR %q is for signer %q, not %q", req.Name, req.Spec.SignerName, p.SignerName)
	}
	if ca == nil || ca.Cert == nil || ca.Key == nil {
		return nil, fmt.Errorf("issue: no CA")
	}
	return issue(ca, req, now, p.MaxDuration, func(_ string, cr *x509.CertificateRequest, usages []certificatesv1.KeyUsage) error {
		return p.validateRequest(cr, usages)
	})
}
