package tokenctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// ListCSRs prints the cluster's CertificateSigningRequests as `kubectl get csr` does:
// NAME, AGE, SIGNERNAME, REQUESTOR, REQUESTEDDURATION, CONDITION, in the server's order
// (by name). now is the time ages are counted to (zero means time.Now()).
func ListCSRs(ctx context.Context, client kubernetes.Interface, out io.Writer, now time.Time) error {
	if now.IsZero() {
		now = time.Now()
	}
	list, err := client.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing certificatesigningrequests: %w", err)
	}
	w := tabwriter.NewWriter(out, 0, 4, 3, ' ', 0)
	fmt.Fprintln(w, "NAME\tAGE\tSIGNERNAME\tREQUESTOR\tREQUESTEDDURATION\tCONDITION")
	for i := range list.Items {
		fmt.Fprintln(w, strings.Join(csrRow(&list.Items[i], now), "\t"))
	}
	return w.Flush()
}

func csrRow(c *certificatesv1.CertificateSigningRequest, now time.Time) []string {
	age := "<unknown>"
	if !c.CreationTimestamp.IsZero() {
		age = duration.HumanDuration(now.Sub(c.CreationTimestamp.Time))
	}
	requested := "<none>"
	if c.Spec.ExpirationSeconds != nil {
		requested = duration.HumanDuration(time.Duration(*c.Spec.ExpirationSeconds) * time.Second)
	}
	return []string{c.Name, age, orNone(c.Spec.SignerName), c.Spec.Username, requested, csr.StateOf(c).String()}
}

// DecisionOptions are the condition's reason and message; empty means the approve
// package's defaults (ManuallyApproved / ManuallyDenied).
type DecisionOptions struct {
	Reason  string
	Message string
}

// ApproveCSRs approves the named CSRs through /approval, in order, printing a line for
// each, as `kubectl certificate approve` does; it stops at the first failure.
func ApproveCSRs(ctx context.Context, client kubernetes.Interface, out io.Writer, names []string, opts DecisionOptions) error {
	return decide(out, names, "approved", func(name string) error {
		return approve.Approve(ctx, client, name, opts.Reason, opts.Message)
	})
}

// DenyCSRs denies the named CSRs; see ApproveCSRs.
func DenyCSRs(ctx context.Context, client kubernetes.Interface, out io.Writer, names []string, opts DecisionOptions) error {
	return decide(out, names, "denied", func(name string) error {
		return approve.Deny(ctx, client, name, opts.Reason, opts.Message)
	})
}

func decide(out io.Writer, names []string, verb string, do func(string) error) error {
	if len(names) == 0 {
		return errors.New("name at least one CSR")
	}
	for _, name := range names {
		if err := do(name); err != nil {
			return err
		}
		fmt.Fprintf(out, "certificatesigningrequest.certificates.k8s.io/%s %s\n", name, verb)
	}
	return nil
}
