package csr

import (
	"strings"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
)

// State is what a CSR's status says about it: its Approved, Denied and Failed conditions and
// whether it holds a certificate. Every part of the project reads a CSR's status through
// StateOf, so approver, signer, cleaner, waiters and tools agree on one rule.
type State struct {
	Approved, Denied, Failed, Issued bool
}

// StateOf reads obj's status. A condition counts when its status is True or empty: the API
// server defaults an empty condition status to True (k8s.io/api certificates/v1 defaults),
// kube-controller-manager's signer reads conditions the same way (HasTrueCondition), and
// the API server accepts Approved and Denied only with status True.
func StateOf(obj *certificatesv1.CertificateSigningRequest) State {
	s := State{Issued: len(obj.Status.Certificate) > 0}
	for _, c := range obj.Status.Conditions {
		if !holds(c) {
			continue
		}
		switch c.Type {
		case certificatesv1.CertificateApproved:
			s.Approved = true
		case certificatesv1.CertificateDenied:
			s.Denied = true
		case certificatesv1.CertificateFailed:
			s.Failed = true
		}
	}
	return s
}

// Decided reports a CSR that was approved or denied.
func (s State) Decided() bool { return s.Approved || s.Denied }

// String is what `kubectl get csr` shows in its CONDITION column: Denied, else Approved or
// Pending; then ",Failed" and ",Issued" when the CSR failed or holds a certificate.
func (s State) String() string {
	parts := []string{"Pending"}
	switch {
	case s.Denied:
		parts[0] = "Denied"
	case s.Approved:
		parts[0] = "Approved"
	}
	if s.Failed {
		parts = append(parts, "Failed")
	}
	if s.Issued {
		parts = append(parts, "Issued")
	}
	return strings.Join(parts, ",")
}

// Condition returns obj's first condition of type t that holds under StateOf's rule, or nil.
func Condition(obj *certificatesv1.CertificateSigningRequest, t certificatesv1.RequestConditionType) *certificatesv1.CertificateSigningRequestCondition {
	for i, c := range obj.Status.Conditions {
		if c.Type == t && holds(c) {
			return &obj.Status.Conditions[i]
		}
	}
	return nil
}

func holds(c certificatesv1.CertificateSigningRequestCondition) bool {
	return c.Status == "" || c.Status == corev1.ConditionTrue
}
