package ctrlkill_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"strings"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	certutil "k8s.io/client-go/util/cert"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/internal/signing"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
)

// outcome sums one storm.
type outcome struct {
	legit, bad int
	// issued legitimate CSRs whose certificate passed every check.
	issued int
	// signedTwice: CSRs with more than one certificate write, Signed Event or "Signed CSR"
	// log line. wronglyApproved: bad CSRs approved or issued.
	signedTwice, wronglyApproved int
	// signedEvents and signedLogs count Signed Events and log lines over the storm's CSRs;
	// eventsMissing counts issued CSRs with no Signed Event: a killed process loses the
	// Events it had queued, and client-go's recorder drops Events beyond a 1000-Event queue.
	signedEvents, signedLogs, eventsMissing int
}

func (o outcome) String() string {
	return fmt.Sprintf("%d/%d issued, %d signed twice, %d of %d bad CSRs wrongly approved (Signed Events %d, %d issued CSRs without one; \"Signed CSR\" log lines %d)",
		o.issued, o.legit, o.signedTwice, o.wronglyApproved, o.bad, o.signedEvents, o.eventsMissing, o.signedLogs)
}

// verify lists the storm's CSRs and checks each against what was requested and what the
// tracker saw; every problem is a test error naming the CSR.
func verify(t *testing.T, reqs []*request, tr *tracker, logs ...*testenv.SyncBuffer) outcome {
	t.Helper()
	ctx := context.Background()
	client := cp.Client()
	if err := tr.err(); err != nil {
		t.Errorf("the CSR watch broke, certificate writes may be uncounted: %v", err)
	}
	list, err := client.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
	must(t, err, "listing CSRs")
	stored := map[string]*certificatesv1.CertificateSigningRequest{}
	for i := range list.Items {
		stored[list.Items[i].Name] = &list.Items[i]
	}
	events := signedEvents(t, client, tr.prefix, tr.issuedCount())
	lines := signedLogLines(logs...)
	roots := x509.NewCertPool()
	roots.AddCert(cp.CA.Cert)

	var o outcome
	o.legit, o.bad = countLegit(reqs)
	for _, r := range reqs {
		obj, s := stored[r.name], tr.get(r.name)
		o.signedEvents += events[r.name]
		o.signedLogs += lines[r.name]
		if s.certWrites > 1 || events[r.name] > 1 || lines[r.name] > 1 || s.certCleared {
			o.signedTwice++
			t.Errorf("%s signed more than once: %d certificate writes (cleared again: %v), %d Signed Events, %d \"Signed CSR\" log lines",
				r.name, s.certWrites, s.certCleared, events[r.name], lines[r.name])
		}
		if obj == nil {
			t.Errorf("%s is gone", r.name)
			continue
		}
		if r.bad != "" {
			if s.approved || s.certWrites > 0 || approved(obj) || len(obj.Status.Certificate) > 0 {
				o.wronglyApproved++
				t.Errorf("%s (%s) was wrongly approved: conditions %v, certificate %d bytes, %d Signed Events",
					r.name, r.bad, conditions(obj), len(obj.Status.Certificate), events[r.name])
			}
			continue
		}
		if problem := checkIssued(r, obj, roots); problem != "" {
			t.Errorf("%s: %s", r.name, problem)
			continue
		}
		if s.certWrites != 1 {
			t.Errorf("%s: the watch saw %d certificate writes, want exactly 1", r.name, s.certWrites)
			continue
		}
		if events[r.name] == 0 {
			o.eventsMissing++
		}
		o.issued++
	}
	if o.issued > 0 && o.signedLogs == 0 {
		t.Logf("no \"Signed CSR\" log line matched %s: has the signer's log message changed? Only the watch and the Events counted signatures", signedLine)
	}
	return o
}

// checkIssued returns what is wrong with a legitimate CSR's end state ("" when nothing):
// approved, not denied or failed, and a certificate for the request's key and subject
// that chains to the cluster CA for client auth.
func checkIssued(r *request, obj *certificatesv1.CertificateSigningRequest, roots *x509.CertPool) string {
	if !approved(obj) {
		return fmt.Sprintf("not approved: conditions %v", conditions(obj))
	}
	for _, c := range obj.Status.Conditions {
		if c.Type == certificatesv1.CertificateDenied || c.Type == certificatesv1.CertificateFailed {
			return fmt.Sprintf("condition %s: %s", c.Type, c.Message)
		}
	}
	if len(obj.Status.Certificate) == 0 {
		return fmt.Sprintf("no certificate: conditions %v", conditions(obj))
	}
	if err := csr.VerifyIssued(r.name, obj.Status.Certificate, r.obj.Spec.Request, r.key); err != nil {
		return err.Error()
	}
	certs, err := certutil.ParseCertsPEM(obj.Status.Certificate)
	if err != nil {
		return fmt.Sprintf("certificate: %v", err)
	}
	if _, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return fmt.Sprintf("certificate does not verify against the cluster CA: %v", err)
	}
	return ""
}

func approved(obj *certificatesv1.CertificateSigningRequest) bool {
	for _, c := range obj.Status.Conditions {
		if c.Type == certificatesv1.CertificateApproved && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func conditions(obj *certificatesv1.CertificateSigningRequest) []string {
	var out []string
	for _, c := range obj.Status.Conditions {
		out = append(out, fmt.Sprintf("%s=%s(%s)", c.Type, c.Status, c.Reason))
	}
	return out
}

// signedEvents counts Signed Events (by their Count: the recorder folds repeats of one
// message into one Event) per CSR name starting with prefix. The recorder sends them
// asynchronously, so it polls until the count stops changing (or covers every issued CSR).
func signedEvents(t *testing.T, client kubernetes.Interface, prefix string, issued int) map[string]int {
	t.Helper()
	selector := fields.AndSelectors(
		fields.OneTermEqualSelector("involvedObject.kind", "CertificateSigningRequest"),
		fields.OneTermEqualSelector("reason", signing.EventSigned),
	).String()
	var counts map[string]int
	last, stableSince := -1, time.Now()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		list, err := client.CoreV1().Events(metav1.NamespaceAll).List(context.Background(), metav1.ListOptions{FieldSelector: selector})
		must(t, err, "listing Signed Events")
		counts = map[string]int{}
		for _, ev := range list.Items {
			if strings.HasPrefix(ev.InvolvedObject.Name, prefix) {
				counts[ev.InvolvedObject.Name] += max(int(ev.Count), 1)
			}
		}
		if len(counts) != last {
			last, stableSince = len(counts), time.Now()
		}
		if len(counts) >= issued || time.Since(stableSince) >= 2*time.Second {
			break
		}
	}
	return counts
}
