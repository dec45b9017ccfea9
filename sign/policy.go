package sign

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// Rules a custom signer's policy checks; they name the broken rule in the *csr.RuleError of
// a *ValidationError.
const (
	rulePolicyUsage   csr.Rule = "AllowedUsages"
	rulePolicyDNSName csr.Rule = "AllowedDNSSuffixes"
	rulePolicyIP      csr.Rule = "AllowedIPRanges"
	rulePolicyEmail   csr.Rule = "NoEmailAddresses"
	rulePolicyURI     csr.Rule = "NoURIs"
	rulePolicySubject csr.Rule = "AllowedSubjects"
)

// defaultAllowedUsages are a custom signer's usages when its policy names none: those of a
// TLS server certificate.
var defaultAllowedUsages = []certificatesv1.KeyUsage{
	certificatesv1.UsageDigitalSignature,
	certificatesv1.UsageKeyEncipherment,
	certificatesv1.UsageServerAuth,
}

// SignerPolicy is a signer name of your own (e.g. "example.com/workload-serving") that the
// Signer serves with its own CA and rules. Requests for it are validated by Validate: a
// request outside the policy is marked Failed with reason SignerValidationFailure and a
// message naming the offending SAN or usage.
//
// A custom signer's CA is not the cluster CA, so its certificates authenticate nobody to
// the API server unless an admin configures it to trust that CA; the policy is about what
// the certificates may claim to the workloads that trust the CA.
type SignerPolicy struct {
	// SignerName is the spec.signerName served: a qualified name "<domain>/<path>" that is
	// not one of builtinSigners nor under kubernetes.io/.
	SignerName string
	// CA signs the certificates (its own CA, or one shared with other signers).
	CA CAProvider
	// AllowedUsages is the set every requested usage must belong to. Default
	// defaultAllowedUsages.
	AllowedUsages []certificatesv1.KeyUsage
	// MaxDuration caps the lifetime of issued certificates, as --cluster-signing-duration
	// does for built-in signers (spec.expirationSeconds below 10 minutes still gets 10).
	// Default: the Signer's SigningDuration; a larger value is lowered to it.
	MaxDuration time.Duration
	// AllowedDNSSuffixes bound the DNS subjectAltNames, compared without case:
	//   - "*.svc.cluster.local" or ".svc.cluster.local" allows every name strictly under
	//     svc.cluster.local, at any depth (web.ns.svc.cluster.local,
	//     *.ns.svc.cluster.local), but not svc.cluster.local itself;
	//   - "example.com" (no leading dot or star) allows exactly that name;
	//   - "*" allows every DNS name.
	// Empty allows no DNS subjectAltName.
	AllowedDNSSuffixes []string
	// AllowedIPRanges bound the IP subjectAltNames: each must lie in one of them (e.g. the
	// service CIDR 10.96.0.0/12). Empty allows no IP subjectAltName.
	AllowedIPRanges []netip.Prefix
	// AllowedSubjects, when set, bound the subject's common name by the same rules as
	// AllowedDNSSuffixes (an empty CN is always allowed). Unset, any CN is allowed.
	AllowedSubjects []string
	// AllowEmailAddresses and AllowURIs admit email and URI subjectAltNames, unchecked;
	// without them such a request fails.
	AllowEmailAddresses, AllowURIs bool
}

// Check reports what is wrong with the policy itself (not with a request), naming the field.
func (p *SignerPolicy) check() error {
	name := p.SignerName
	if err := checkCustomSignerName(name); err != nil {
		return err
	}
	if p.CA == nil {
		return fmt.Errorf("custom signer %q: no CA", name)
	}
	if p.MaxDuration < 0 {
		return fmt.Errorf("custom signer %q: max duration %s is negative", name, p.MaxDuration)
	}
	if _, _, err := KeyUsages(p.AllowedUsages); err != nil {
		return fmt.Errorf("custom signer %q: allowed usages: %w", name, err)
	}
	for _, s := range slices.Concat(p.AllowedDNSSuffixes, p.AllowedSubjects) {
		if err := checkNamePattern(s); err != nil {
			return fmt.Errorf("custom signer %q: %w", name, err)
		}
	}
	for _, r := range p.AllowedIPRanges {
		if !r.IsValid() {
			return fmt.Errorf("custom signer %q: invalid IP range %v", name, r)
		}
	}
	return nil
}

func checkCustomSignerName(name string) error {
	domain, path, ok := strings.Cut(name, "/")
	switch {
	case name == "":
		return errors.New("custom signer: empty signer name")
	case !ok || domain == "" || path == "" || !strings.Contains(domain, "."):
		return fmt.Errorf("custom signer %q: the name must be <domain>/<path>, e.g. example.com/serving", name)
	case isBuiltinSigner(name) || domain == "kubernetes.io" || strings.HasSuffix(domain, ".kubernetes.io"):
		return fmt.Errorf("custom signer %q: kubernetes.io signer names are reserved", name)
	}
	return nil
}

func checkNamePattern(p string) error {
	rest := strings.TrimPrefix(strings.TrimPrefix(p, "*"), ".")
	if p == "*" {
		return nil
	}
	if rest == "" || strings.ContainsAny(rest, "* /") {
		return fmt.Errorf("invalid name pattern %q: want a DNS name, \".suffix\", \"*.suffix\" or \"*\"", p)
	}
	if strings.HasPrefix(p, "*") && !strings.HasPrefix(p, "*.") {
		return fmt.Errorf("invalid name pattern %q: a star must be followed by a dot", p)
	}
	return nil
}

// usages returns the effective allowed usages.
func (p *SignerPolicy) usages() []certificatesv1.KeyUsage {
	if len(p.AllowedUsages) == 0 {
		return defaultAllowedUsages
	}
	return p.AllowedUsages
}

// Validate checks a parsed request and its usages against the policy. The first broken
// rule is a *ValidationError whose message names the offending usage or subjectAltName.
func (p *SignerPolicy) validateRequest(req *x509.CertificateRequest, usages []certificatesv1.KeyUsage) error {
	if err := p.validate(req, usages); err != nil {
		return &ValidationError{SignerName: p.SignerName, Err: err}
	}
	return nil
}

func (p *SignerPolicy) validate(req *x509.CertificateRequest, usages []certificatesv1.KeyUsage) error {
	allowed := p.usages()
	if len(usages) == 0 {
		return &csr.RuleError{Rule: rulePolicyUsage, Detail: "no usages requested"}
	}
	for _, u := range usages {
		if !slices.Contains(allowed, u) {
			return &csr.RuleError{Rule: rulePolicyUsage, Detail: fmt.Sprintf("usage %q is not allowed by signer %s (allowed: %s)", u, p.SignerName, joinUsages(allowed))}
		}
	}
	if cn := req.Subject.CommonName; cn != "" && len(p.AllowedSubjects) > 0 && !matchName(p.AllowedSubjects, cn) {
		return &csr.RuleError{Rule: rulePolicySubject, Detail: fmt.Sprintf("common name %q is not allowed by signer %s (allowed: %s)", cn, p.SignerName, strings.Join(p.AllowedSubjects, ", "))}
	}
	for _, name := range req.DNSNames {
		if !matchName(p.AllowedDNSSuffixes, name) {
			return &csr.RuleError{Rule: rulePolicyDNSName, Detail: fmt.Sprintf("DNS name %q is not allowed by signer %s (allowed: %s)", name, p.SignerName, orNothing(p.AllowedDNSSuffixes))}
		}
	}
	for _, ip := range req.IPAddresses {
		addr, ok := netip.AddrFromSlice(ip)
		if !ok || !inRanges(p.AllowedIPRanges, addr.Unmap()) {
			return &csr.RuleError{Rule: rulePolicyIP, Detail: fmt.Sprintf("IP address %s is not allowed by signer %s (allowed: %s)", ip, p.SignerName, prefixes(p.AllowedIPRanges))}
		}
	}
	if len(req.EmailAddresses) > 0 && !p.AllowEmailAddresses {
		return &csr.RuleError{Rule: rulePolicyEmail, Detail: fmt.Sprintf("email address %q is not allowed by signer %s", req.EmailAddresses[0], p.SignerName)}
	}
	if len(req.URIs) > 0 && !p.AllowURIs {
		return &csr.RuleError{Rule: rulePolicyURI, Detail: fmt.Sprintf("URI %q is not allowed by signer %s", req.URIs[0].String(), p.SignerName)}
	}
	return nil
}

// matchName reports whether a DNS name matches one of the patterns, by the rules of
// SignerPolicy.AllowedDNSSuffixes.
func matchName(patterns []string, name string) bool {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if name == "" {
		return false
	}
	for _, p := range patterns {
		p = strings.ToLower(strings.TrimSuffix(p, "."))
		switch {
		case p == "*":
			return true
		case strings.HasPrefix(p, "*.") || strings.HasPrefix(p, "."):
			suffix := p[strings.Index(p, "."):]
			if len(name) > len(suffix) && strings.HasSuffix(name, suffix) {
				return true
			}
		case name == p:
			return true
		}
	}
	return false
}

func inRanges(ranges []netip.Prefix, addr netip.Addr) bool {
	for _, r := range ranges {
		if r.Contains(addr) {
			return true
		}
	}
	return false
}

func joinUsages(us []certificatesv1.KeyUsage) string {
	s := make([]string, len(us))
	for i, u := range us {
		s[i] = string(u)
	}
	return strings.Join(s, ", ")
}

func prefixes(ps []netip.Prefix) string {
	if len(ps) == 0 {
		return "none"
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

func orNothing(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
