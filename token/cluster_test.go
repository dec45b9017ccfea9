package token_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tlsbootstrap/tlsbootstrap/token"
)

func TestCreatedTokenAuthenticates(t *testing.T) {
	testenv.Need(t)
	needCluster(t)
	ctx := context.Background()
	client := cp.Client()
	tok, err := token.Generate()
	if err != nil {
		t.Fatal(err)
	}
	spec := token.DefaultSpec(tok)
	spec.Groups = append(spec.Groups, "system:bootstrappers:extra", token.KubeadmDefaultGroup)
	secret, err := token.Create(ctx, client, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = token.Delete(context.Background(), client, tok.ID) })

	var info any
	err = eventually(10*time.Second, func() error {
		user, err := whoAmI(ctx, cp.TokenConfig(tok.Reveal()))
		if err == nil {
			info = user
			if user.Username != "system:bootstrap:"+tok.ID {
				t.Errorf("user = %q, want system:bootstrap:%s", user.Username, tok.ID)
			}
			// The server's groups: system:bootstrappers plus the extra groups, sorted and
			// de-duplicated, then system:authenticated.
			want := append(spec.AuthGroups(), "system:authenticated")
			if diff := cmp.Diff(want, user.Groups); diff != "" {
				t.Errorf("groups (-want +got):\n%s", diff)
			}
		}
		return err
	})
	if err != nil {
		t.Fatalf("created token never authenticated: %v", err)
	}
	t.Logf("authenticated as %v", info)

	if _, err := token.Create(ctx, client, spec); err == nil || !apierrors.IsAlreadyExists(err) || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("creating the same id again: %v, want an AlreadyExists error", err)
	}

	got, err := token.Get(ctx, client, tok.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	wantSpec := spec
	wantSpec.TTL = 0
	exp, err := time.Parse(time.RFC3339, string(secret.Data["expiration"]))
	if err != nil {
		t.Fatal(err)
	}
	wantSpec.Expires = exp
	wantSpec.Usages = []string{token.UsageAuthentication, token.UsageSigning}
	if diff := cmp.Diff(&wantSpec, got); diff != "" {
		t.Errorf("Get (-want +got):\n%s", diff)
	}
	if left := time.Until(exp); left < 23*time.Hour || left > 24*time.Hour+time.Minute {
		t.Errorf("default TTL gave an expiration %s away, want about 24h", left)
	}

	// Deleting the Secret takes the token's access away.
	if err := token.Delete(ctx, client, tok.ID); err != nil {
		t.Fatal(err)
	}
	if err := eventually(10*time.Second, wantUnauthorized(ctx, cp.TokenConfig(tok.Reveal()))); err != nil {
		t.Fatalf("after delete: %v", err)
	}
	if err := token.Delete(ctx, client, tok.ID); !apierrors.IsNotFound(err) {
		t.Errorf("deleting twice: %v, want NotFound", err)
	}
}

func TestListReportsExpiryAndUsages(t *testing.T) {
	testenv.Need(t)
	needCluster(t)
	ctx := context.Background()
	client := cp.Client()
	now := time.Now()
	// token.Create refuses an expired spec and one without usages: those are written directly.
	writeSecret(t, token.Spec{Token: token.Token{ID: "list03", Secret: "0123456789abcdef"}, Expires: now.Add(-time.Hour), Usages: []string{token.UsageAuthentication}}, nil)
	writeSecret(t, token.Spec{Token: token.Token{ID: "list02", Secret: "0123456789abcdef"}, Description: "forever"}, nil)
	specs := []token.Spec{
		{Token: token.Token{ID: "list01", Secret: "0123456789abcdef"}, TTL: time.Hour, Usages: []string{token.UsageSigning, token.UsageAuthentication}},
	}
	for _, s := range specs {
		if _, err := token.Create(ctx, client, s); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = token.Delete(context.Background(), client, s.Token.ID) })
	}
	// A Secret written by someone else with an unparseable expiration: listed, expired, with Err.
	bad, err := token.SecretFromSpec(token.Spec{Token: token.Token{ID: "list04", Secret: "0123456789abcdef"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	bad.Data["expiration"] = []byte("soon")
	if _, err := client.CoreV1().Secrets(token.Namespace).Create(ctx, bad, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = token.Delete(context.Background(), client, "list04") })

	infos, err := token.List(ctx, client, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID      string
		Expired bool
		Usages  []string
		Desc    string
		Err     bool
	}
	var got []row
	for _, in := range infos {
		if !strings.HasPrefix(in.ID, "list") {
			continue
		}
		r := row{ID: in.ID, Expired: in.Expired, Err: in.Err != nil}
		if in.Spec != nil {
			r.Usages, r.Desc = in.Spec.Usages, in.Spec.Description
		}
		if in.UID == "" || in.SecretName != token.SecretName(in.ID) {
			t.Errorf("%s: uid %q secret %q", in.ID, in.UID, in.SecretName)
		}
		got = append(got, r)
	}
	want := []row{
		{ID: "list01", Usages: []string{"authentication", "signing"}},
		{ID: "list02", Desc: "forever"},
		{ID: "list03", Expired: true, Usages: []string{"authentication"}},
		{ID: "list04", Expired: true, Err: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	if !slices.IsSortedFunc(infos, func(a, b token.Info) int { return strings.Compare(a.ID, b.ID) }) {
		t.Error("List is not sorted by id")
	}
}
