package csr

import (
	certificatesv1 "k8s.io/api/certificates/v1"
)

// Pending states of a CSR, as WaitError and notIssuedError report them.
const (
	StatePendingApproval = "pending approval"
	stateApprovedNoCert  = "approved, waiting for the signer to issue the certificate"
)

// outcome reads a CSR's status: the issued certificate, a terminal error (Denied,
// Failed), or the pending state.
func outcome(obj *certificatesv1.CertificateSigningRequest) (cert []byte, state string, err error) {
	if c := Condition(obj, certificatesv1.CertificateDenied); c != nil {
		return nil, "", &DeniedError{Name: obj.Name, Reason: c.Reason, Message: c.Message}
	}
	if c := Condition(obj, certificatesv1.CertificateFailed); c != nil {
		return nil, "", &FailedError{Name: obj.Name, Reason: c.Reason, Message: c.Message}
	}
	switch st := StateOf(obj); {
	case !st.Approved:
		return nil, StatePendingApproval, nil
	case !st.Issued:
		return nil, stateApprovedNoCert, nil
	}
	return obj.Status.Certificate, "", nil
}
