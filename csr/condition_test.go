package csr_test

import (
	"fmt"
	"testing"

	certificatesv1 "k8s.io/api/certificates/v1"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

func TestConditionSummary(t *testing.T) {
	cond := func(types ...certificatesv1.RequestConditionType) *certificatesv1.CertificateSigningRequest {
		obj := &certificatesv1.CertificateSigningRequest{}
		for _, ty := range types {
			obj.Status.Conditions = append(obj.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{Type: ty})
		}
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
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := csr.ConditionSummary(tc.obj); got != tc.want {
				t.Errorf("ConditionSummary = %q, want %q", got, tc.want)
			}
		})
	}
}

func ExampleConditionSummary() {
	obj := &certificatesv1.CertificateSigningRequest{}
	fmt.Println(csr.ConditionSummary(obj))
	obj.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateApproved}}
	obj.Status.Certificate = []byte("-----BEGIN CERTIFICATE-----...")
	fmt.Println(csr.ConditionSummary(obj))
	// Output:
	// Pending
	// Approved,Issued
}
