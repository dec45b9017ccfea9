package csr

import certificatesv1 "k8s.io/api/certificates/v1"

// ConditionSummary is what `kubectl get csr` shows in its CONDITION column: Denied when a
// Denied condition exists, else Approved or Pending; then ",Failed" and ",Issued" when a
// Failed condition or a certificate is present.
func ConditionSummary(obj *certificatesv1.CertificateSigningRequest) string {
	var approved, denied, failed bool
	for _, c := range obj.Status.Conditions {
		switch c.Type {
		case certificatesv1.CertificateApproved:
			approved = true
		case certificatesv1.CertificateDenied:
			denied = true
		case certificatesv1.CertificateFailed:
			failed = true
		}
	}
	s := "Pending"
	if denied {
		s = "Denied"
	} else if approved {
		s = "Approved"
	}
	if failed {
		s += ",Failed"
	}
	if len(obj.Status.Certificate) > 0 {
		s += ",Issued"
	}
	return s
}
