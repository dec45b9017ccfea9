package controller

import (
	"unique"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// What the informers cache. With 10,000 CSRs in the cluster the CSR cache is most of the
// controller's memory (a profile of a 10,000-node storm: 34 MB live, 25 MB of it decoded
// CSRs), so it keeps only what the approver and the signer read.

// dropManagedFields drops metadata.managedFields from the cached objects: the
// controllers never read them. Updates sent from a cached copy leave the server's
// managedFields as they are (an update without the field keeps them).
func dropManagedFields(obj any) (any, error) {
	if o, err := meta.Accessor(obj); err == nil { // not for a deletion tombstone
		o.SetManagedFields(nil)
	}
	return obj, nil
}

// compactCSR is the CSR informer's transform. Besides managedFields it drops
// spec.request of a CSR that neither controller will act on again (see settled), and it
// shares one copy of the strings most CSRs repeat (signer name, usages, groups, the
// bootstrap username, condition types, reasons and messages) through package unique,
// whose entries are freed once no CSR uses them.
func compactCSR(obj any) (any, error) {
	if _, err := dropManagedFields(obj); err != nil {
		return obj, err
	}
	req, ok := obj.(*certificatesv1.CertificateSigningRequest)
	if !ok {
		return obj, nil
	}
	if settled(req) {
		req.Spec.Request = nil
	}
	spec := &req.Spec
	spec.SignerName = intern(spec.SignerName)
	spec.Username = intern(spec.Username)
	for i := range spec.Groups {
		spec.Groups[i] = intern(spec.Groups[i])
	}
	for i := range spec.Usages {
		spec.Usages[i] = certificatesv1.KeyUsage(intern(string(spec.Usages[i])))
	}
	for i := range req.Status.Conditions {
		c := &req.Status.Conditions[i]
		c.Type = certificatesv1.RequestConditionType(intern(string(c.Type)))
		c.Status = corev1.ConditionStatus(intern(string(c.Status)))
		c.Reason = intern(c.Reason)
		c.Message = intern(c.Message)
	}
	return req, nil
}

// settled reports a CSR whose request neither controller reads again: denied, or approved
// and then issued or failed. The approver skips approved and denied CSRs before it parses
// the request, and the signer skips issued, denied and failed ones. A CSR marked Failed
// but never approved keeps its request, since the approver would still classify it.
func settled(req *certificatesv1.CertificateSigningRequest) bool {
	st := csr.StateOf(req)
	return st.Denied || st.Approved && (st.Issued || st.Failed)
}

func intern(s string) string {
	if s == "" {
		return s
	}
	return unique.Make(s).Value()
}
