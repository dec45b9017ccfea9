package tokenctl

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/internal/diagnose"
)

// ExplainOptions configure ExplainCSR.
type ExplainOptions struct {
	// Signers are the signer names some controller in the cluster signs for; default
	// diagnose.DefaultServedSigners. tokenctl cannot see the controllers, so it trusts this.
	Signers []string
	// ServingApproval says the approver approves kubelet serving CSRs (servingapproving).
	ServingApproval bool
	// Now is the clock; zero means time.Now.
	Now time.Time
}

// ExplainCSR prints why the CSR name is where it is (diagnose.Explain): what it was
// recognized as, the SubjectAccessReview answers for its requester, who decided it, its
// certificate, and each problem found with its fix.
func ExplainCSR(ctx context.Context, client kubernetes.Interface, out io.Writer, name string, opts ExplainOptions) error {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	e, err := diagnose.Explain(ctx, client, name, diagnose.Options{
		SignerNames: opts.Signers, ServingApproval: opts.ServingApproval, Now: func() time.Time { return now },
	})
	if err != nil {
		return err
	}
	return printExplanation(out, e, now)
}

func printExplanation(out io.Writer, e *diagnose.Explanation, now time.Time) error {
	w := tabwriter.NewWriter(out, 0, 4, 1, ' ', 0)
	row := func(label, format string, args ...any) {
		fmt.Fprintf(w, "%s:\t%s\n", label, fmt.Sprintf(format, args...))
	}
	row("Name", "%s", e.Name)
	served := "no"
	if e.SignerServed {
		served = "yes"
	}
	row("Signer", "%s (signed here: %s; signers assumed to run: %s)", orNone(e.SignerName), served, strings.Join(e.SignerNames, ", "))
	row("Requester", "%s (groups: %s)", e.Requester, strings.Join(e.Groups, ", "))
	if !e.Created.IsZero() {
		row("Created", "%s (%s ago)", e.Created.UTC().Format(time.RFC3339), duration.HumanDuration(now.Sub(e.Created)))
	}
	row("Condition", "%s", e.State)
	if len(e.Kinds) > 0 {
		kinds := make([]string, len(e.Kinds))
		for i, k := range e.Kinds {
			kinds[i] = string(k)
		}
		row("Recognized as", "%s", strings.Join(kinds, ", "))
	}
	for _, n := range e.NotRecognized {
		row("Not "+string(n.Kind), "rule %s: %s", n.Rule, n.Detail)
	}
	for _, r := range e.Reviews {
		switch {
		case r.Skipped != "":
			row("Review "+string(r.Kind), "not asked: %s", r.Skipped)
		case r.Allowed:
			row("Review "+string(r.Kind), "allowed (%s)", r.Reason)
		default:
			row("Review "+string(r.Kind), "denied (%s)", r.Reason)
		}
	}
	if d := e.Decision; d != nil {
		by := e.DecidedBy
		if by == "" {
			by = "<unknown>"
		}
		row(string(d.Type), "by %s, reason %s: %s", by, d.Reason, d.Message)
	}
	if f := e.Failure; f != nil {
		row("Failed", "reason %s: %s", f.Reason, f.Message)
	}
	if c := e.Certificate; c != nil {
		row("Serial", "%s", c.Serial)
		row("Subject", "%s", c.Subject)
		row("Issuer", "%s", c.Issuer)
		row("Valid", "%s to %s", c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
		switch {
		case c.TrustedByAPIServer == nil && c.TrustNote != "":
			row("Trusted", "unknown: %s", c.TrustNote)
		case c.TrustedByAPIServer != nil && *c.TrustedByAPIServer:
			row("Trusted", "yes, by the API server's client CAs")
		case c.TrustedByAPIServer != nil:
			row("Trusted", "NO: %s", c.TrustNote)
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if len(e.Findings) == 0 {
		_, err := fmt.Fprintln(out, "\nNo problems found.")
		return err
	}
	fmt.Fprintln(out, "\nProblems:")
	for i, f := range e.Findings {
		fmt.Fprintf(out, "%d. %s\n   Fix: %s\n", i+1, f.Problem, f.Fix)
	}
	return nil
}
