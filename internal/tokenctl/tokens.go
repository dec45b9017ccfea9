package tokenctl

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// CreateOptions describe the token `create` makes. The zero value makes a token that
// never expires, with no usages and no extra groups; the CLI's defaults are kubeadm's
// (see token.DefaultSpec).
type CreateOptions struct {
	// Token is the token to create ("<id>.<secret>"); empty means a new random one.
	Token string
	// TTL is the token's lifetime from now; zero means it never expires.
	TTL time.Duration
	// Usages are token.UsageSigning and token.UsageAuthentication.
	Usages []string
	// Groups are extra groups, each system:bootstrappers:<something>.
	Groups []string
	// Description is free text shown by list.
	Description string
}

// CreateToken creates a bootstrap token Secret and prints the token, and nothing else,
// on out so that scripts can capture it. Nothing is written when the options are invalid
// or a token with the same id exists.
func CreateToken(ctx context.Context, client kubernetes.Interface, out io.Writer, opts CreateOptions) error {
	var (
		t   token.Token
		err error
	)
	if opts.Token == "" {
		t, err = token.Generate()
	} else {
		t, err = token.Parse(opts.Token)
	}
	if err != nil {
		return err
	}
	spec := token.Spec{Token: t, TTL: opts.TTL, Usages: opts.Usages, Groups: opts.Groups, Description: opts.Description}
	if err := spec.Validate(); err != nil {
		return err
	}
	if _, err := token.Create(ctx, client, spec); err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, t.Reveal())
	return err
}

// ListOptions configure ListTokens.
type ListOptions struct {
	// ShowSecrets prints whole tokens instead of "<id>.****************".
	ShowSecrets bool
	// Now is the time TTLs are counted from. Default time.Now().
	Now time.Time
}

// ListTokens prints the cluster's bootstrap tokens as `kubeadm token list` does: TOKEN
// (redacted unless opts.ShowSecrets), TTL, EXPIRES, USAGES, DESCRIPTION, EXTRA GROUPS.
// A token Secret that cannot authenticate is shown with <invalid> and the reason in place
// of its description.
func ListTokens(ctx context.Context, client kubernetes.Interface, out io.Writer, opts ListOptions) error {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	infos, err := token.List(ctx, client, now)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 10, 4, 3, ' ', 0)
	fmt.Fprintln(w, "TOKEN\tTTL\tEXPIRES\tUSAGES\tDESCRIPTION\tEXTRA GROUPS")
	for _, info := range infos {
		fmt.Fprintln(w, strings.Join(tokenRow(info, now, opts.ShowSecrets), "\t"))
	}
	return w.Flush()
}

func tokenRow(info token.Info, now time.Time, showSecrets bool) []string {
	if info.Spec == nil {
		return []string{info.ID + ".<invalid>", "<invalid>", "<invalid>", "<none>", OneLine(info.Err), "<none>"}
	}
	spec := info.Spec
	shown := spec.Token.String()
	if showSecrets {
		shown = spec.Token.Reveal()
	}
	ttl, expires := "<forever>", "<never>"
	if !spec.Expires.IsZero() {
		ttl = duration.ShortHumanDuration(spec.Expires.Sub(now))
		expires = spec.Expires.UTC().Format(time.RFC3339)
	}
	return []string{shown, ttl, expires, orNone(strings.Join(spec.Usages, ",")), orNone(spec.Description), orNone(strings.Join(spec.Groups, ","))}
}

// DeleteTokens deletes the tokens named by id or whole token, in order, printing a line
// for each; it stops at the first failure (a token that does not exist is one).
func DeleteTokens(ctx context.Context, client kubernetes.Interface, out io.Writer, idsOrTokens []string) error {
	if len(idsOrTokens) == 0 {
		return fmt.Errorf("delete needs at least one token id or token")
	}
	for _, arg := range idsOrTokens {
		if err := token.Delete(ctx, client, arg); err != nil {
			if apierrors.IsNotFound(err) {
				return fmt.Errorf("bootstrap token %q not found", idOf(arg))
			}
			return err
		}
		fmt.Fprintf(out, "bootstrap token %q deleted\n", idOf(arg))
	}
	return nil
}

// idOf is the id part of an id or a token, never the secret.
func idOf(idOrToken string) string {
	id, _, _ := strings.Cut(idOrToken, ".")
	return id
}

// GenerateToken prints a new random bootstrap token without touching any cluster, as
// `kubeadm token generate` does.
func GenerateToken(out io.Writer) error {
	t, err := token.Generate()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, t.Reveal())
	return err
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
