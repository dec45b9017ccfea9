package conformance

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// cleanerSigner is a signer no implementation handles: the retention CSRs must not be
// approved or signed by anyone but the suite.
const cleanerSigner = "example.com/tlsbootstrap-conformance"

// cleanerMargin is added to the cleaner's interval for the pass itself and the watch.
const cleanerMargin = 10 * time.Second

// retentionCSR is one CSR of cleaner/retention: how the suite prepares it, and whether
// the rules of kube-controller-manager's csrcleaner delete it.
type retentionCSR struct {
	what string
	// approved/denied/failed, when set, add that condition with lastUpdateTime (and
	// lastTransitionTime) this long ago.
	approved, denied, failed *time.Duration
	// certValidFor, when set, writes a certificate valid until now+certValidFor (negative:
	// already expired).
	certValidFor *time.Duration
	deleted      bool
}

func ago(d time.Duration) *time.Duration { return &d }

// retentionCSRs: every rule a client can set up (lastUpdateTime is the client's to write
// on /approval and /status; creationTimestamp is not, so pending-for-24h is not here).
var retentionCSRs = []retentionCSR{
	{what: "denied 2h ago", denied: ago(2 * time.Hour), deleted: true},
	{what: "failed 2h ago", failed: ago(2 * time.Hour), deleted: true},
	{what: "issued, approved 2h ago", approved: ago(2 * time.Hour), certValidFor: ago(time.Hour), deleted: true},
	{what: "approved 25h ago, unissued", approved: ago(25 * time.Hour), deleted: true},
	{what: "approved now, certificate expired", approved: ago(0), certValidFor: ago(-time.Minute), deleted: true},
	{what: "denied now", denied: ago(0)},
	{what: "approved 2h ago, unissued", approved: ago(2 * time.Hour)},
	{what: "issued, approved 30m ago", approved: ago(30 * time.Minute), certValidFor: ago(time.Hour)},
	{what: "pending, created now"},
}

func cleanerCases() []testCase {
	return []testCase{{
		Name: "retention", Profile: ProfileCleaner, Features: []Feature{FeatureCSRCleaner},
		Description: "within Options.CleanerInterval, the cleaner deletes CSRs denied or failed over 1h ago, issued and approved over 1h ago, " +
			"approved but unissued over 24h ago, or approved with an expired certificate (conditions back-dated by the suite), " +
			"and keeps CSRs denied now, approved 2h ago but unissued, issued 30m ago, or pending; " +
			"pending over 24h is not covered (creationTimestamp cannot be set by a client)",
		Run: func(ctx context.Context, t *caseT) {
			interval := t.Options.CleanerInterval
			need := 2*interval + 2*cleanerMargin
			if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < need {
				t.Skipf("the implementation's cleaner runs every %s (Options.CleanerInterval / --cleaner-interval), so this case needs %s; "+
					"it may take %s (Options.CaseTimeout): run the cleaner every few seconds and set its interval", interval, need, time.Until(deadline).Round(time.Second))
			}
			names := make([]string, len(retentionCSRs))
			for i, rc := range retentionCSRs {
				names[i] = t.prepareRetentionCSR(ctx, rc)
			}
			// One pass starts within interval of the last CSR's preparation.
			waitCtx, cancel := context.WithTimeout(ctx, interval+cleanerMargin)
			defer cancel()
			t.Eventually(waitCtx, fmt.Sprintf("the cleaner (every %s) to delete the CSRs past their retention within %s", interval, interval+cleanerMargin),
				func(ctx context.Context) (bool, string, error) {
					var left []string
					for i, rc := range retentionCSRs {
						if !rc.deleted {
							continue
						}
						obj, err := t.getCSR(ctx, names[i])
						switch {
						case ignoreNotFound(err) != nil:
							return false, err.Error(), nil
						case err == nil:
							left = append(left, fmt.Sprintf("%s (%s: %s)", names[i], rc.what, describeCSR(obj)))
						}
					}
					return len(left) == 0, "still there: " + strings.Join(left, "; "), nil
				})
			// The pass that deleted them saw the others too; one more pass must keep them.
			t.consistently(ctx, interval+cleanerMargin/2, "the CSRs within their retention to be kept",
				func(ctx context.Context) (bool, string, error) {
					for i, rc := range retentionCSRs {
						if rc.deleted {
							continue
						}
						if _, err := t.getCSR(ctx, names[i]); err != nil {
							return false, fmt.Sprintf("%s (%s): %v", names[i], rc.what, err), nil
						}
					}
					return true, "", nil
				})
		},
	}}
}

// prepareRetentionCSR submits a CSR for cleanerSigner as the admin and gives it rc's
// conditions and certificate, checking that the API server kept the back-dated times.
func (t *caseT) prepareRetentionCSR(ctx context.Context, rc retentionCSR) string {
	s := t.mustSubmitCSR(ctx, nil, csrRequest{
		Subject: pkix.Name{CommonName: "tlsbootstrap-conformance-retention"}, SignerName: cleanerSigner, Usages: clientUsages,
	})
	api := t.Client.CertificatesV1().CertificateSigningRequests()
	now := time.Now()
	for _, c := range []struct {
		typ certificatesv1.RequestConditionType
		ago *time.Duration
	}{{certificatesv1.CertificateApproved, rc.approved}, {certificatesv1.CertificateDenied, rc.denied}, {certificatesv1.CertificateFailed, rc.failed}} {
		if c.ago == nil {
			continue
		}
		at := metav1.NewTime(now.Add(-*c.ago))
		obj, err := t.getCSR(ctx, s.Name)
		if err != nil {
			t.Fatalf("reading CSR %s (%s): %v", s.Name, rc.what, err)
		}
		obj.Status.Conditions = append(obj.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
			Type: c.typ, Status: corev1.ConditionTrue, Reason: "ConformanceRetention", Message: "back-dated by the tlsbootstrap conformance suite",
			LastUpdateTime: at, LastTransitionTime: at,
		})
		if c.typ == certificatesv1.CertificateFailed {
			obj, err = api.UpdateStatus(ctx, obj, metav1.UpdateOptions{})
		} else {
			obj, err = api.UpdateApproval(ctx, s.Name, obj, metav1.UpdateOptions{})
		}
		if err != nil {
			t.Fatalf("setting %s on CSR %s (%s): %v", c.typ, s.Name, rc.what, err)
		}
		if got := findCondition(obj, c.typ); got == nil || got.LastUpdateTime.Sub(at.Time).Abs() > time.Second {
			t.Skipf("the API server did not keep the lastUpdateTime %s written with %s on CSR %s (stored: %v): retention cannot be exercised", at, c.typ, s.Name, got)
		}
	}
	if rc.certValidFor != nil {
		certPEM, err := throwawayCertificate(s.Key, now.Add(*rc.certValidFor))
		if err != nil {
			t.Fatalf("making a certificate for CSR %s: %v", s.Name, err)
		}
		obj, err := t.getCSR(ctx, s.Name)
		if err != nil {
			t.Fatalf("reading CSR %s (%s): %v", s.Name, rc.what, err)
		}
		obj.Status.Certificate = certPEM
		if _, err := api.UpdateStatus(ctx, obj, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("writing the certificate of CSR %s (%s): %v", s.Name, rc.what, err)
		}
	}
	return s.Name
}

// throwawayCertificate is a self-signed certificate for key ending at notAfter (an hour
// long): only its validity matters to a cleaner.
func throwawayCertificate(key crypto.Signer, notAfter time.Time) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "tlsbootstrap-conformance-retention"},
		NotBefore: notAfter.Add(-time.Hour), NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}
