package approve

import (
	"crypto/x509"
	"errors"
	"fmt"
	"slices"

	certificatesv1 "k8s.io/api/certificates/v1"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// Rules this package checks on top of csr's kubelet rules.
const (
	// ruleSignerName: the CSR must name the kind's signer.
	ruleSignerName csr.Rule = "SignerName"
	// ruleRequesterIsSubject: for the "self" kinds the requester (spec.username, set by the
	// API server) must equal the CN.
	ruleRequesterIsSubject csr.Rule = "RequesterIsSubject"
	// ruleRequesterIsNode: for serving CSRs the requester must also be in system:nodes,
	// as every kubelet's identity is.
	ruleRequesterIsNode csr.Rule = "RequesterIsNode"
)

// NotRecognizedError says why a CSR is not of a Kind: the rule it broke and a detail fit
// to show to a person.
type NotRecognizedError struct {
	Kind   Kind
	Rule   csr.Rule
	Detail string
}

func (e *NotRecognizedError) Error() string {
	return fmt.Sprintf("not a %s CSR: %s", e.Kind, e.Detail)
}

// Classification is what Classify found in a CSR.
type Classification struct {
	// Request is the parsed spec.request.
	Request *x509.CertificateRequest
	// Kinds are the kinds the CSR is recognized as, in the order they are tried (a kubelet
	// client renewal is both selfnodeclient and nodeclient).
	Kinds []Kind
	// NotRecognized says, for every other kind, why the CSR is not of it.
	NotRecognized []*NotRecognizedError
}

// Is reports whether the CSR was recognized as k.
func (c Classification) Is(k Kind) bool {
	for _, got := range c.Kinds {
		if got == k {
			return true
		}
	}
	return false
}

// recognizer is one row of the policy: the signer a kind needs, the x509 rules it applies
// and whether the requester must be the subject.
type recognizer struct {
	kind          Kind
	signer        string
	validate      func(*x509.CertificateRequest, []certificatesv1.KeyUsage) error
	selfRequested bool
	nodeRequested bool   // the requester must be in system:nodes
	message       string // the Approved condition's message
}

// recognizers in the order kube-controller-manager tries them; selfnodeserver is ours.
var recognizers = []recognizer{
	{KindSelfNodeClient, certificatesv1.KubeAPIServerClientKubeletSignerName, csr.ValidateKubeletClient, true, false, messageSelfNodeClient},
	{KindNodeClient, certificatesv1.KubeAPIServerClientKubeletSignerName, csr.ValidateKubeletClient, false, false, messageNodeClient},
	{KindSelfNodeServer, certificatesv1.KubeletServingSignerName, csr.ValidateKubeletServing, true, true, messageSelfNodeServer},
}

// SignerName is the signer a CSR of kind k names (kube-apiserver-client-kubelet for the
// client kinds, kubelet-serving for selfnodeserver).
func (k Kind) SignerName() string {
	r, _ := recognizerFor(k)
	return r.signer
}

func recognizerFor(k Kind) (recognizer, bool) {
	for _, r := range recognizers {
		if r.kind == k {
			return r, true
		}
	}
	return recognizer{}, false
}

// match returns nil when the CSR is of r's kind, else why not.
func (r recognizer) match(obj *certificatesv1.CertificateSigningRequest, req *x509.CertificateRequest) *NotRecognizedError {
	if obj.Spec.SignerName != r.signer {
		return &NotRecognizedError{Kind: r.kind, Rule: ruleSignerName,
			Detail: fmt.Sprintf("signer is %q, want %q", obj.Spec.SignerName, r.signer)}
	}
	if err := r.validate(req, obj.Spec.Usages); err != nil {
		rule := csr.Rule("")
		var re *csr.RuleError
		if errors.As(err, &re) {
			rule = re.Rule
		}
		return &NotRecognizedError{Kind: r.kind, Rule: rule, Detail: err.Error()}
	}
	if r.selfRequested && obj.Spec.Username != req.Subject.CommonName {
		return &NotRecognizedError{Kind: r.kind, Rule: ruleRequesterIsSubject,
			Detail: fmt.Sprintf("requester %q is not the subject %q", obj.Spec.Username, req.Subject.CommonName)}
	}
	if r.nodeRequested && !slices.Contains(obj.Spec.Groups, csr.NodesGroup) {
		return &NotRecognizedError{Kind: r.kind, Rule: ruleRequesterIsNode,
			Detail: fmt.Sprintf("requester %q is not in group %s", obj.Spec.Username, csr.NodesGroup)}
	}
	return nil
}

// Classify parses spec.request and evaluates every recognizer on it, with Kubernetes'
// rules for the client kinds. The error is non-nil only when spec.request does not parse;
// a CSR of no kind is a Classification with no Kinds, and NotRecognized says why.
func Classify(obj *certificatesv1.CertificateSigningRequest) (Classification, error) {
	if obj == nil {
		return Classification{}, fmt.Errorf("classifying CSR: nil object")
	}
	req, err := csr.ParseRequestPEM(obj.Spec.Request)
	if err != nil {
		return Classification{}, fmt.Errorf("classifying CSR %q: %w", obj.Name, err)
	}
	c := Classification{Request: req}
	for _, r := range recognizers {
		if why := r.match(obj, req); why != nil {
			c.NotRecognized = append(c.NotRecognized, why)
			continue
		}
		c.Kinds = append(c.Kinds, r.kind)
	}
	return c, nil
}
