package controller

import (
	"strings"
	"testing"
	"unsafe"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

func TestDropManagedFields(t *testing.T) {
	obj := &certificatesv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{
		Name: "c1", ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubelet"}},
	}}
	out, err := dropManagedFields(obj)
	if err != nil || out.(*certificatesv1.CertificateSigningRequest).ManagedFields != nil || obj.Name != "c1" {
		t.Errorf("dropManagedFields: %v, %+v", err, out)
	}
	tombstone := cache.DeletedFinalStateUnknown{Key: "c1", Obj: obj}
	if out, err := dropManagedFields(tombstone); err != nil || out != any(tombstone) {
		t.Errorf("a tombstone changed: %v, %+v", err, out)
	}
}

// decoded builds a CSR whose strings are fresh copies, as a decoder's are.
func decoded(conds []certificatesv1.CertificateSigningRequestCondition, cert string) *certificatesv1.CertificateSigningRequest {
	fresh := func(s string) string { return strings.Clone(s) }
	var copied []certificatesv1.CertificateSigningRequestCondition
	for _, c := range conds {
		copied = append(copied, certificatesv1.CertificateSigningRequestCondition{
			Type: certificatesv1.RequestConditionType(fresh(string(c.Type))), Status: corev1.ConditionStatus(fresh(string(c.Status))),
			Reason: fresh(c.Reason), Message: fresh(c.Message),
		})
	}
	return &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: "csr-1", ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubelet"}}},
		Spec: certificatesv1.CertificateSigningRequestSpec{
			Request:    []byte("-----BEGIN CERTIFICATE REQUEST-----"),
			SignerName: fresh(certificatesv1.KubeAPIServerClientKubeletSignerName),
			Username:   fresh("system:bootstrap:abcdef"),
			Groups:     []string{fresh("system:bootstrappers"), fresh("system:authenticated")},
			Usages:     []certificatesv1.KeyUsage{certificatesv1.KeyUsage(fresh("client auth"))},
		},
		Status: certificatesv1.CertificateSigningRequestStatus{Conditions: copied, Certificate: []byte(cert)},
	}
}

func TestCompactCSR(t *testing.T) {
	approved := certificatesv1.CertificateSigningRequestCondition{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "AutoApproved", Message: "approved"}
	denied := certificatesv1.CertificateSigningRequestCondition{Type: certificatesv1.CertificateDenied, Status: corev1.ConditionTrue, Reason: "Denied"}
	failed := certificatesv1.CertificateSigningRequestCondition{Type: certificatesv1.CertificateFailed, Status: corev1.ConditionTrue, Reason: "SignerValidationFailure"}
	failedFalse := failed
	failedFalse.Status = corev1.ConditionFalse
	const cert = "-----BEGIN CERTIFICATE-----"
	for _, tc := range []struct {
		name        string
		conds       []certificatesv1.CertificateSigningRequestCondition
		cert        string
		keepRequest bool
	}{
		{"pending", nil, "", true},
		{"approved, not issued yet (the signer needs the request)", []certificatesv1.CertificateSigningRequestCondition{approved}, "", true},
		{"approved and issued", []certificatesv1.CertificateSigningRequestCondition{approved}, cert, false},
		{"approved and failed", []certificatesv1.CertificateSigningRequestCondition{approved, failed}, "", false},
		{"approved, Failed=False", []certificatesv1.CertificateSigningRequestCondition{approved, failedFalse}, "", true},
		{"denied", []certificatesv1.CertificateSigningRequestCondition{denied}, "", false},
		{"failed but never approved (the approver still classifies it)", []certificatesv1.CertificateSigningRequestCondition{failed}, "", true},
		{"issued but not approved", nil, cert, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := decoded(tc.conds, tc.cert), decoded(tc.conds, tc.cert)
			for _, obj := range []*certificatesv1.CertificateSigningRequest{a, b} {
				if out, err := compactCSR(obj); err != nil || out != any(obj) {
					t.Fatalf("compactCSR: %v, %v", out, err)
				}
			}
			if got := a.Spec.Request != nil; got != tc.keepRequest {
				t.Errorf("request kept: %v, want %v", got, tc.keepRequest)
			}
			if string(a.Status.Certificate) != tc.cert || a.ManagedFields != nil {
				t.Errorf("certificate %q (want %q), managedFields %v", a.Status.Certificate, tc.cert, a.ManagedFields)
			}
			// The values are unchanged, and two CSRs share one copy of each.
			pairs := [][2]string{
				{a.Spec.SignerName, b.Spec.SignerName}, {a.Spec.Username, b.Spec.Username},
				{a.Spec.Groups[0], b.Spec.Groups[0]}, {a.Spec.Groups[1], b.Spec.Groups[1]},
				{string(a.Spec.Usages[0]), string(b.Spec.Usages[0])},
			}
			for i := range a.Status.Conditions {
				ca, cb := a.Status.Conditions[i], b.Status.Conditions[i]
				if ca != tc.conds[i] {
					t.Errorf("condition %d changed: %+v, want %+v", i, ca, tc.conds[i])
				}
				pairs = append(pairs, [2]string{string(ca.Type), string(cb.Type)}, [2]string{ca.Reason, cb.Reason})
			}
			for _, p := range pairs {
				if p[0] != p[1] || unsafe.StringData(p[0]) != unsafe.StringData(p[1]) {
					t.Errorf("%q and %q are not one shared string", p[0], p[1])
				}
			}
			if a.Spec.Username != "system:bootstrap:abcdef" || a.Spec.Groups[0] != "system:bootstrappers" {
				t.Errorf("values changed: %+v", a.Spec)
			}
		})
	}
	tombstone := cache.DeletedFinalStateUnknown{Key: "c1", Obj: decoded(nil, "")}
	if out, err := compactCSR(tombstone); err != nil || out != any(tombstone) {
		t.Errorf("a tombstone changed: %v, %+v", err, out)
	}
}
