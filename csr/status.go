package csr

import (
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
)

// Pending states of a CSR, as WaitError and NotIssuedError report them.
const (
	StatePendingApproval = "pending approval"
	StateApprovedNoCert  = "approved, waiting for the signer to issue the certificate"
)

// outcome reads a CSR's status: the issued certificate, a terminal error (Denied,
// Failed), or the pending state.
func outcome(obj *certificatesv1.CertificateSigningRequest) (cert []byte, state string, err error) {
	approved := false
	for _, c := range obj.Status.Conditions {
		if c.Status != "" && c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case certificatesv1.CertificateDenied:
			return nil, "", &DeniedError{Name: obj.Name, Reason: c.Reason, Message: c.Message}
		case certificatesv1.CertificateFailed:
			return nil, "", &FailedError{Name: obj.Name, Reason: c.Reason, Message: c.Message}
		case certificatesv1.CertificateApproved:
			approved = true
		}
	}
	if !approved {
		return nil, StatePendingApproval, nil
	}
	if len(obj.Status.Certificate) == 0 {
		return nil, StateApprovedNoCert, nil
	}
	return obj.Status.Certificate, "", nil
}
