package csr

import (
	"crypto/x509"
	"fmt"
	"slices"
	"strings"

	certificatesv1 "k8s.io/api/certificates/v1"
)

// Subject values of a kubelet's certificates.
const (
	// NodeUserPrefix starts the CN of every kubelet certificate: system:node:<name>.
	NodeUserPrefix = "system:node:"
	// NodesGroup is the only Organization a kubelet certificate may carry.
	NodesGroup = "system:nodes"
)

// Rule names one check of the kubelet CSR rules; a RuleError carries it so callers can
// show precisely which rule a request failed.
type Rule string

// The rules, in the order kube-controller-manager checks them.
const (
	RuleOrganization     Rule = "Organization"     // O must be exactly [system:nodes]
	RuleNoDNSNames       Rule = "NoDNSNames"       // client certificates carry no DNS SANs
	RuleNoEmailAddresses Rule = "NoEmailAddresses" // no email SANs
	RuleNoIPAddresses    Rule = "NoIPAddresses"    // client certificates carry no IP SANs
	RuleNoURIs           Rule = "NoURIs"           // no URI SANs
	RuleCommonNamePrefix Rule = "CommonNamePrefix" // CN must start with system:node:
	RuleDNSOrIPRequired  Rule = "DNSOrIPRequired"  // serving certificates need a DNS or IP SAN
	RuleUsages           Rule = "Usages"           // usages must be one of the allowed sets
)

// RuleError is a request that breaks one Rule.
type RuleError struct {
	Rule   Rule
	Detail string
}

func (e *RuleError) Error() string { return e.Detail }

func ruleErr(r Rule, format string, args ...any) error {
	return &RuleError{Rule: r, Detail: fmt.Sprintf(format, args...)}
}

// Allowed usage sets (compared as sets).
var (
	kubeletClientUsages = [][]certificatesv1.KeyUsage{
		{certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment, certificatesv1.UsageClientAuth},
		{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth},
	}
	kubeletServingUsages = [][]certificatesv1.KeyUsage{
		{certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment, certificatesv1.UsageServerAuth},
		{certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth},
	}
)

// ValidateKubeletClient checks a request and its usages against the rules for the
// kubernetes.io/kube-apiserver-client-kubelet signer; the first broken rule is returned as
// a *RuleError. The signer name itself is the caller's to check.
func ValidateKubeletClient(req *x509.CertificateRequest, usages []certificatesv1.KeyUsage) error {
	if err := validateNodeOrganization(req); err != nil {
		return err
	}
	if len(req.DNSNames) > 0 {
		return ruleErr(RuleNoDNSNames, "DNS subjectAltNames are not allowed: %s", strings.Join(req.DNSNames, ", "))
	}
	if len(req.EmailAddresses) > 0 {
		return ruleErr(RuleNoEmailAddresses, "email subjectAltNames are not allowed: %s", strings.Join(req.EmailAddresses, ", "))
	}
	if len(req.IPAddresses) > 0 {
		return ruleErr(RuleNoIPAddresses, "IP subjectAltNames are not allowed: %v", req.IPAddresses)
	}
	if len(req.URIs) > 0 {
		return ruleErr(RuleNoURIs, "URI subjectAltNames are not allowed: %v", req.URIs)
	}
	if err := validateNodeCommonName(req); err != nil {
		return err
	}
	return validateUsageSets(usages, kubeletClientUsages)
}

// ValidateKubeletServing checks a request and its usages against the rules for the
// kubernetes.io/kubelet-serving signer.
func ValidateKubeletServing(req *x509.CertificateRequest, usages []certificatesv1.KeyUsage) error {
	if err := validateNodeOrganization(req); err != nil {
		return err
	}
	if len(req.DNSNames) == 0 && len(req.IPAddresses) == 0 {
		return ruleErr(RuleDNSOrIPRequired, "DNS or IP subjectAltName is required")
	}
	if len(req.EmailAddresses) > 0 {
		return ruleErr(RuleNoEmailAddresses, "email subjectAltNames are not allowed: %s", strings.Join(req.EmailAddresses, ", "))
	}
	if len(req.URIs) > 0 {
		return ruleErr(RuleNoURIs, "URI subjectAltNames are not allowed: %v", req.URIs)
	}
	if err := validateNodeCommonName(req); err != nil {
		return err
	}
	return validateUsageSets(usages, kubeletServingUsages)
}

// ValidateKubeAPIServerClient checks usages for the kubernetes.io/kube-apiserver-client
// signer: client auth is required; digital signature and key encipherment are the only
// others allowed.
func ValidateKubeAPIServerClient(usages []certificatesv1.KeyUsage) error {
	hasClientAuth := false
	for _, u := range usages {
		switch u {
		case certificatesv1.UsageClientAuth:
			hasClientAuth = true
		case certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment:
		default:
			return ruleErr(RuleUsages, "usage %q is not allowed for a client certificate (allowed: client auth, digital signature, key encipherment)", u)
		}
	}
	if !hasClientAuth {
		return ruleErr(RuleUsages, "usage \"client auth\" is required for a client certificate")
	}
	return nil
}

func validateNodeOrganization(req *x509.CertificateRequest) error {
	if o := req.Subject.Organization; len(o) != 1 || o[0] != NodesGroup {
		return ruleErr(RuleOrganization, "subject organization is %q, want exactly [%s]", o, NodesGroup)
	}
	return nil
}

func validateNodeCommonName(req *x509.CertificateRequest) error {
	if !strings.HasPrefix(req.Subject.CommonName, NodeUserPrefix) {
		return ruleErr(RuleCommonNamePrefix, "subject common name %q does not begin with %s", req.Subject.CommonName, NodeUserPrefix)
	}
	return nil
}

func validateUsageSets(usages []certificatesv1.KeyUsage, allowed [][]certificatesv1.KeyUsage) error {
	for _, set := range allowed {
		if sameSet(usages, set) {
			return nil
		}
	}
	return ruleErr(RuleUsages, "usages %q do not match any allowed set %q", usages, allowed)
}

func sameSet(a, b []certificatesv1.KeyUsage) bool {
	for _, u := range a {
		if !slices.Contains(b, u) {
			return false
		}
	}
	for _, u := range b {
		if !slices.Contains(a, u) {
			return false
		}
	}
	return true
}
