package csr_test

import (
	"fmt"
	"testing"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

func TestStateOf(t *testing.T) {
	cond := func(types ...certificatesv1.RequestConditionType) *certificatesv1.CertificateSigningRequest {
		obj := &certificatesv1.CertificateSigningRequest{}
		for _, ty := range types {
			obj.Status.Conditions = append(obj.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{Type: ty})
		}
		return obj
	}
	condWith := func(ty certificatesv1.RequestConditionType, status corev1.ConditionStatus) *certificatesv1.CertificateSigningRequest {
		obj := &certificatesv1.CertificateSigningRequest{}
		obj.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: ty, Status: status}}
		return obj
	}
	issued := cond(certificatesv1.CertificateApproved)
	issued.Status.Certificate = []byte("pem")
	failed := cond(certificatesv1.CertificateApproved, certificatesv1.CertificateFailed)
	for _, tc := range []struct {
		name string
		obj  *certificatesv1.CertificateSigningRequest
		want string
	}{
		{"new", cond(), "Pending"},
		{"approved", cond(certificatesv1.CertificateApproved), "Approved"},
		{"denied", cond(certificatesv1.CertificateDenied), "Denied"},
		{"denied wins", cond(certificatesv1.CertificateApproved, certificatesv1.CertificateDenied), "Denied"},
		{"issued", issued, "Approved,Issued"},
		{"failed", failed, "Approved,Failed"},
		{"a False condition does not count", condWith(certificatesv1.CertificateFailed, corev1.ConditionFalse), "Pending"},
		{"an Unknown condition does not count", condWith(certificatesv1.CertificateFailed, corev1.ConditionUnknown), "Pending"},
		{"an explicit True counts", condWith(certificatesv1.CertificateApproved, corev1.ConditionTrue), "Approved"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := csr.StateOf(tc.obj).String(); got != tc.want {
				t.Errorf("StateOf().String() = %q, want %q", got, tc.want)
			}
		})
	}
}

func ExampleStateOf() {
	obj := &certificatesv1.CertificateSigningRequest{}
	fmt.Println(csr.StateOf(obj))
	obj.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateApproved}}
	obj.Status.Certificate = []byte("-----BEGIN CERTIFICATE-----...")
	fmt.Println(csr.StateOf(obj))
	// Output:
	// Pending
	// Approved,Issued
}
