package csrcleaner

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// Retention is how long the cleaner keeps CSRs in each state (kube-controller-manager's
// csrcleaner). A zero field takes its default.
type Retention struct {
	// Issued: approved with a certificate, counted from the approval. Default 1h.
	Issued time.Duration
	// Denied: counted from the Denied condition. Default 1h.
	Denied time.Duration
	// Failed: counted from the Failed condition. Default 1h.
	Failed time.Duration
	// Pending: no condition at all, counted from creation. Default 24h.
	Pending time.Duration
	// ApprovedUnissued: approved without a certificate, counted from the approval. Default 24h.
	ApprovedUnissued time.Duration
}

// defaultRetention is kube-controller-manager's retention.
func defaultRetention() Retention {
	return Retention{Issued: time.Hour, Denied: time.Hour, Failed: time.Hour, Pending: 24 * time.Hour, ApprovedUnissued: 24 * time.Hour}
}

func (r Retention) withDefaults() Retention {
	d := defaultRetention()
	for _, f := range []struct{ v, def *time.Duration }{
		{&r.Issued, &d.Issued}, {&r.Denied, &d.Denied}, {&r.Failed, &d.Failed},
		{&r.Pending, &d.Pending}, {&r.ApprovedUnissued, &d.ApprovedUnissued},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	return r
}

// shouldDelete applies defaultRetention: see Retention.ShouldDelete.
func shouldDelete(req *certificatesv1.CertificateSigningRequest, now time.Time) (bool, string) {
	return defaultRetention().ShouldDelete(req, now)
}

// ShouldDelete reports whether the cleaner deletes req at now, and why. The rules, checked
// in kube-controller-manager's order: issued and approved longer than Issued ago; denied
// longer than Denied ago; failed longer than Failed ago; without conditions and created
// longer than Pending ago; approved with an expired certificate; approved, unissued, for
// longer than ApprovedUnissued. Times that are unset never count as old.
func (r Retention) ShouldDelete(req *certificatesv1.CertificateSigningRequest, now time.Time) (bool, string) {
	r = r.withDefaults()
	st := csr.StateOf(req)
	issued, approved := st.Issued, st.Approved
	older := func(t metav1.Time, d time.Duration) bool { return !t.IsZero() && now.Sub(t.Time) > d }
	find := func(typ certificatesv1.RequestConditionType, d time.Duration) bool {
		c := csr.Condition(req, typ)
		return c != nil && older(c.LastUpdateTime, d)
	}
	switch {
	case issued && find(certificatesv1.CertificateApproved, r.Issued):
		return true, fmt.Sprintf("issued and approved more than %s ago", r.Issued)
	case find(certificatesv1.CertificateDenied, r.Denied):
		return true, fmt.Sprintf("denied more than %s ago", r.Denied)
	case find(certificatesv1.CertificateFailed, r.Failed):
		return true, fmt.Sprintf("failed more than %s ago", r.Failed)
	case len(req.Status.Conditions) == 0 && older(req.CreationTimestamp, r.Pending):
		return true, fmt.Sprintf("pending for more than %s", r.Pending)
	case approved && issued && certificateExpired(req.Status.Certificate, now):
		return true, "its certificate has expired"
	case !issued && find(certificatesv1.CertificateApproved, r.ApprovedUnissued):
		return true, fmt.Sprintf("approved but unissued for more than %s", r.ApprovedUnissued)
	}
	return false, ""
}

// certificateExpired reads the first certificate; one that does not parse is not expired
// (as upstream: the other rules still remove it in time).
func certificateExpired(data []byte, now time.Time) bool {
	block, _ := pem.Decode(data)
	if block == nil {
		return false
	}
	certs, err := x509.ParseCertificates(block.Bytes)
	if err != nil || len(certs) == 0 {
		return false
	}
	return now.After(certs[0].NotAfter)
}
