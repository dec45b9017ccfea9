package tokenctl_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tlsbootstrap/tlsbootstrap/internal/tokenctl"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// listRow returns the fields of the `list` row of the token with id, nil when absent.
// Descriptions in these tests have no spaces, so fields split on blanks.
func listRow(t *testing.T, out, id string) []string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, id+".") {
			return strings.Fields(line)
		}
	}
	return nil
}

func TestTokenLifecycle(t *testing.T) {
	for _, tc := range []struct {
		name     string
		deleteBy func(token.Token) string
	}{
		{"delete by id", func(tok token.Token) string { return tok.ID }},
		{"delete by token", func(tok token.Token) string { return tok.Reveal() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := mustRun(t, "create", admin(), "--ttl=1h", "--description=rack-7")
			value := strings.TrimSuffix(out, "\n")
			tok, err := token.Parse(value)
			if err != nil || out != value+"\n" {
				t.Fatalf("create printed %q, want only a token and a newline (%v)", out, err)
			}

			list := mustRun(t, "list", admin())
			if !strings.HasPrefix(list, "TOKEN") || !strings.Contains(list, "EXTRA GROUPS") {
				t.Errorf("list header missing:\n%s", list)
			}
			if strings.Contains(list, tok.Secret) {
				t.Errorf("list shows the secret without --show-secrets:\n%s", list)
			}
			row := listRow(t, list, tok.ID)
			want := []string{tok.String(), "<ttl>", "<expires>", "authentication,signing", "rack-7", token.KubeadmDefaultGroup}
			if len(row) != len(want) {
				t.Fatalf("row %q, want %d columns", row, len(want))
			}
			if ttl := row[1]; ttl != "59m" && ttl != "60m" {
				t.Errorf("TTL %q, want about 60m", ttl)
			}
			if exp, err := time.Parse(time.RFC3339, row[2]); err != nil || exp.Sub(time.Now()) > time.Hour || exp.Sub(time.Now()) < 55*time.Minute {
				t.Errorf("EXPIRES %q, want an RFC 3339 time an hour from now (%v)", row[2], err)
			}
			row[1], row[2] = want[1], want[2]
			if diff := cmp.Diff(want, row); diff != "" {
				t.Errorf("list row (-want +got):\n%s", diff)
			}
			if shown := listRow(t, mustRun(t, "list", admin(), "--show-secrets"), tok.ID); len(shown) == 0 || shown[0] != value {
				t.Errorf("list --show-secrets row %q, want the whole token first", shown)
			}

			// The token is the real thing: the server authenticates it.
			user, err := whoAmI(t, cp.TokenConfig(value))
			if err != nil || user.Username != token.UserPrefix+tok.ID {
				t.Fatalf("created token authenticates as %q (%v)", user.Username, err)
			}

			if got, want := mustRun(t, "delete", admin(), tc.deleteBy(tok)), `bootstrap token "`+tok.ID+`" deleted`+"\n"; got != want {
				t.Errorf("delete printed %q, want %q", got, want)
			}
			if row := listRow(t, mustRun(t, "list", admin()), tok.ID); row != nil {
				t.Errorf("list still shows the deleted token: %q", row)
			}
			if _, err := token.Get(context.Background(), cp.Client(), tok.ID); !apierrors.IsNotFound(err) {
				t.Errorf("token Secret after delete: %v, want NotFound", err)
			}
		})
	}
}

func TestCreateFlags(t *testing.T) {
	given, err := token.Generate()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		args    []string
		want    token.Spec // Token and Expires are checked apart
		ttl     time.Duration
		isGiven bool
	}{
		{"kubeadm defaults", nil,
			token.Spec{Usages: []string{"authentication", "signing"}, Groups: []string{token.KubeadmDefaultGroup}}, 24 * time.Hour, false},
		{"never expires", []string{"--ttl=0"},
			token.Spec{Usages: []string{"authentication", "signing"}, Groups: []string{token.KubeadmDefaultGroup}}, 0, false},
		{"everything set", []string{"--ttl=30m", "--usages=authentication", "--groups=system:bootstrappers:a,system:bootstrappers:b", "--description=hello"},
			token.Spec{Usages: []string{"authentication"}, Groups: []string{"system:bootstrappers:a", "system:bootstrappers:b"}, Description: "hello"}, 30 * time.Minute, false},
		{"no extra groups", []string{"--groups="},
			token.Spec{Usages: []string{"authentication", "signing"}}, 24 * time.Hour, false},
		{"given token", []string{given.Reveal()},
			token.Spec{Usages: []string{"authentication", "signing"}, Groups: []string{token.KubeadmDefaultGroup}}, 24 * time.Hour, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now().Truncate(time.Second)
			value := strings.TrimSpace(mustRun(t, append([]string{"create", admin()}, tc.args...)...))
			t.Cleanup(func() { _ = token.Delete(context.Background(), cp.Client(), value) })
			if tc.isGiven && value != given.Reveal() {
				t.Errorf("create printed another token than the one given")
			}
			got, err := token.Get(context.Background(), cp.Client(), value)
			if err != nil {
				t.Fatal(err)
			}
			if got.Token.Reveal() != value {
				t.Errorf("stored token differs from the printed one")
			}
			if tc.ttl == 0 {
				if !got.Expires.IsZero() {
					t.Errorf("expires %v, want never", got.Expires)
				}
			} else if d := got.Expires.Sub(before); d < tc.ttl || d > tc.ttl+time.Minute {
				t.Errorf("expires %s after creation, want %s", d, tc.ttl)
			}
			got.Token, got.Expires = token.Token{}, time.Time{}
			if diff := cmp.Diff(tc.want, *got); diff != "" {
				t.Errorf("stored spec (-want +got):\n%s", diff)
			}
		})
	}
}

// countTokens is how many bootstrap token Secrets the cluster holds.
func countTokens(t *testing.T) int {
	t.Helper()
	infos, err := token.List(context.Background(), cp.Client(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return len(infos)
}

func TestCreateErrors(t *testing.T) {
	existing := newToken(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"token exists", []string{existing.Reveal()}, `bootstrap token id "` + existing.ID + `" already exists`},
		{"unknown usage", []string{"--usages=signing,flying"}, `unknown usage "flying"`},
		{"malformed ttl", []string{"--ttl=soon"}, `invalid argument "soon" for "--ttl" flag`},
		{"negative ttl", []string{"--ttl=-1h"}, "--ttl must not be negative"},
		{"group outside system:bootstrappers", []string{"--groups=admins"}, `extra group "admins" must match`},
		{"malformed token", []string{"abcdef.short"}, "invalid bootstrap token"},
		{"two tokens", []string{"a", "b"}, "wrong arguments"},
		{"unknown flag", []string{"--colour=red"}, "create: unknown flag: --colour"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := countTokens(t)
			out, err := run(t, append([]string{"create", admin()}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if out != "" {
				t.Errorf("a failed create printed %q", out)
			}
			if after := countTokens(t); after != before {
				t.Errorf("%d token Secrets before, %d after a failed create", before, after)
			}
			if strings.Contains(err.Error(), existing.Secret) {
				t.Errorf("error shows a token secret: %v", err)
			}
		})
	}
}

func TestDeleteErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no such token", []string{"zzzzzz"}, `bootstrap token "zzzzzz" not found`},
		{"malformed id", []string{"ABC"}, "invalid bootstrap token"},
		{"no arguments", nil, "wrong arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := run(t, append([]string{"delete", admin()}, tc.args...)...); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestListTokens calls ListTokens directly with a fixed clock: exact TTL and EXPIRES
// columns, an expired token and a Secret that cannot authenticate.
func TestListTokens(t *testing.T) {
	ctx := context.Background()
	expires := time.Now().Add(48 * time.Hour).Truncate(time.Second).UTC()
	fresh, err := token.Generate()
	if err != nil {
		t.Fatal(err)
	}
	spec := token.Spec{Token: fresh, Expires: expires, Usages: []string{"authentication"}, Description: "fixed"}
	if _, err := token.Create(ctx, cp.Client(), spec); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = token.Delete(ctx, cp.Client(), fresh.ID) })
	broken := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: token.SecretName("brokn1"), Namespace: token.Namespace},
		Type:       token.SecretType,
		StringData: map[string]string{"token-id": "other1", "token-secret": "0123456789abcdef"},
	}
	if _, err := cp.Client().CoreV1().Secrets(token.Namespace).Create(ctx, broken, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cp.Client().CoreV1().Secrets(token.Namespace).Delete(ctx, broken.Name, metav1.DeleteOptions{})
	})

	for _, tc := range []struct {
		name string
		now  time.Time
		id   string
		want []string
	}{
		{"three hours left", expires.Add(-3 * time.Hour), fresh.ID,
			[]string{fresh.String(), "3h", expires.Format(time.RFC3339), "authentication", "fixed", "<none>"}},
		{"expired", expires.Add(time.Hour), fresh.ID,
			[]string{fresh.String(), "<invalid>", expires.Format(time.RFC3339), "authentication", "fixed", "<none>"}},
		{"cannot authenticate", expires, "brokn1",
			[]string{"brokn1.<invalid>", "<invalid>", "<invalid>", "<none>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := tokenctl.ListTokens(ctx, cp.Client(), &out, tokenctl.ListOptions{Now: tc.now}); err != nil {
				t.Fatal(err)
			}
			row := listRow(t, out.String(), tc.id)
			if len(row) < len(tc.want) {
				t.Fatalf("row %q, want it to start with %q", row, tc.want)
			}
			if diff := cmp.Diff(tc.want, row[:len(tc.want)]); diff != "" {
				t.Errorf("row (-want +got):\n%s", diff)
			}
			if tc.id == "brokn1" && !slices.ContainsFunc(row, func(s string) bool { return strings.Contains(s, "token-id") || strings.Contains(s, "name") }) {
				t.Errorf("row %q does not say why the Secret cannot authenticate", row)
			}
		})
	}
}

func TestGenerateToken(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		var out bytes.Buffer
		if err := tokenctl.GenerateToken(&out); err != nil {
			t.Fatal(err)
		}
		value := strings.TrimSuffix(out.String(), "\n")
		if _, err := token.Parse(value); err != nil || out.String() != value+"\n" {
			t.Fatalf("generate printed %q: %v", out.String(), err)
		}
		if seen[value] {
			t.Fatalf("generate printed %q twice", value)
		}
		seen[value] = true
	}
	// The CLI path needs no cluster: no kubeconfig is consulted.
	t.Setenv("KUBECONFIG", "/nonexistent/kubeconfig")
	if out, err := run(t, "generate"); err != nil || len(strings.TrimSpace(out)) != 6+1+16 {
		t.Errorf("tokenctl generate: %q, %v", out, err)
	}
}
