package sign

import (
	"crypto/x509"
	"fmt"
	"slices"

	certificatesv1 "k8s.io/api/certificates/v1"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// legacyUnknownSignerName is kubernetes.io/legacy-unknown: signed without restrictions, but
// no longer creatable through certificates.k8s.io/v1.
const legacyUnknownSignerName = "kubernetes.io/legacy-unknown"

// builtinSigners are the signer names kube-controller-manager signs for, and so this
// package: each has its own validation rules.
var builtinSigners = []string{
	certificatesv1.KubeAPIServerClientKubeletSignerName,
	certificatesv1.KubeletServingSignerName,
	certificatesv1.KubeAPIServerClientSignerName,
	legacyUnknownSignerName,
}

// BuiltinSigners are the signer names kube-controller-manager signs for, and so this
// package, each with its own validation rules.
func BuiltinSigners() []string { return slices.Clone(builtinSigners) }

// isBuiltinSigner reports whether name is one of builtinSigners.
func isBuiltinSigner(name string) bool { return slices.Contains(builtinSigners, name) }

// ValidationError is a request the signer refuses for good: the CSR gets condition Failed
// with reason SignerValidationFailure and the error as message, and is never retried.
type ValidationError struct {
	SignerName string
	Err        error // a *csr.RuleError for the kubelet signers
}

func (e *ValidationError) Error() string { return e.Err.Error() }

// Unwrap returns the rule error.
func (e *ValidationError) Unwrap() error { return e.Err }

// validateRequest applies the rules of signerName (kube-controller-manager's csrsigning, pkg/controller/certificates/signer and authority/) to a parsed request and
// its usages: kubelet client and kubelet serving by the csr package's rules, kube-apiserver
// client by its usages, legacy-unknown anything. A broken rule is a *ValidationError;
// a signer name that is not built in is a plain error.
func validateRequest(signerName string, req *x509.CertificateRequest, usages []certificatesv1.KeyUsage) error {
	var err error
	switch signerName {
	case certificatesv1.KubeAPIServerClientKubeletSignerName:
		err = csr.ValidateKubeletClient(req, usages)
	case certificatesv1.KubeletServingSignerName:
		err = csr.ValidateKubeletServing(req, usages)
	case certificatesv1.KubeAPIServerClientSignerName:
		err = csr.ValidateKubeAPIServerClient(usages)
	case legacyUnknownSignerName:
		// No restrictions, for backward compatibility (as upstream).
	default:
		return fmt.Errorf("signer %q is not a built-in signer", signerName)
	}
	if err != nil {
		return &ValidationError{SignerName: signerName, Err: err}
	}
	return nil
}
