package token_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// TestExpiredTokenIsRefusedThenCleaned follows a token through its life on the real API
// server: it authenticates, gets 401 once its expiration passes, and the Cleaner removes
// its Secret while leaving a token without expiration alone.
func TestExpiredTokenIsRefusedThenCleaned(t *testing.T) {
	testenv.Need(t)
	needCluster(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := cp.Client()

	short := token.Spec{Token: token.Token{ID: "short1", Secret: "0123456789abcdef"},
		Expires: time.Now().Add(4 * time.Second), Usages: []string{token.UsageAuthentication}}
	forever := token.Spec{Token: token.Token{ID: "forevr", Secret: "0123456789abcdef"}, Usages: []string{token.UsageAuthentication}}
	for _, s := range []token.Spec{short, forever} {
		if _, err := token.Create(ctx, client, s); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = token.Delete(context.Background(), client, s.Token.ID) })
	}
	if err := eventually(3*time.Second, func() error {
		_, err := whoAmI(ctx, cp.TokenConfig(short.Token.Reveal()))
		return err
	}); err != nil {
		t.Fatalf("short-lived token before its expiration: %v", err)
	}

	// Expiration is stored to the second: wait until it has surely passed.
	time.Sleep(time.Until(short.Expires.Truncate(time.Second).Add(time.Second)))
	// The API server caches a successful token authentication for up to 10s.
	if err := eventually(15*time.Second, wantUnauthorized(ctx, cp.TokenConfig(short.Token.Reveal()))); err != nil {
		t.Fatalf("after expiration: %v", err)
	}
	if _, err := whoAmI(ctx, cp.TokenConfig(forever.Token.Reveal())); err != nil {
		t.Fatalf("token without expiration: %v", err)
	}

	done := make(chan error, 1)
	go func() { done <- token.NewCleaner(client, token.WatchOptions{}).Run(ctx) }()
	err := eventually(15*time.Second, func() error {
		_, err := client.CoreV1().Secrets(token.Namespace).Get(ctx, token.SecretName(short.Token.ID), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err == nil {
			return errStillThere
		}
		return err
	})
	if err != nil {
		t.Fatalf("cleaner did not remove the expired token: %v", err)
	}
	if _, err := token.Get(ctx, client, forever.Token.ID); err != nil {
		t.Errorf("cleaner removed a token without expiration: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("Run did not return after its context was cancelled")
	}
}

// TestCleanerDeletesWhenDue shows the Cleaner acting on a token that expires while it runs.
func TestCleanerDeletesWhenDue(t *testing.T) {
	testenv.Need(t)
	needCluster(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := cp.Client()
	go func() { _ = token.NewCleaner(client, token.WatchOptions{}).Run(ctx) }()

	spec := token.Spec{Token: token.Token{ID: "later1", Secret: "0123456789abcdef"}, Expires: time.Now().Add(3 * time.Second), Usages: []string{token.UsageAuthentication}}
	if _, err := token.Create(ctx, client, spec); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = token.Delete(context.Background(), client, spec.Token.ID) })
	time.Sleep(time.Second)
	if _, err := token.Get(ctx, client, spec.Token.ID); err != nil {
		t.Fatalf("removed before it expired: %v", err)
	}
	if err := eventually(15*time.Second, func() error {
		_, err := token.Get(ctx, client, spec.Token.ID)
		if apierrors.IsNotFound(err) {
			return nil
		}
		return errStillThere
	}); err != nil {
		t.Fatalf("not removed once due: %v", err)
	}
}

func TestCleanExpired(t *testing.T) {
	testenv.Need(t)
	needCluster(t)
	ctx := context.Background()
	client := cp.Client()
	now := time.Now()
	usages := []string{token.UsageAuthentication}
	// token.Create refuses an expired spec: the expired one is written directly.
	writeSecret(t, token.Spec{Token: token.Token{ID: "clean1", Secret: "0123456789abcdef"}, Expires: now.Add(-time.Minute), Usages: usages}, nil)
	specs := []token.Spec{
		{Token: token.Token{ID: "clean2", Secret: "0123456789abcdef"}, Expires: now.Add(time.Hour), Usages: usages},
		{Token: token.Token{ID: "clean3", Secret: "0123456789abcdef"}, Usages: usages},
	}
	for _, s := range specs {
		if _, err := token.Create(ctx, client, s); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = token.Delete(context.Background(), client, s.Token.ID) })
	}
	deleted, err := token.CleanExpired(ctx, client, now)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(deleted, "bootstrap-token-clean1") || slices.Contains(deleted, "bootstrap-token-clean2") || slices.Contains(deleted, "bootstrap-token-clean3") {
		t.Errorf("deleted %v, want clean1 and not clean2/clean3", deleted)
	}
	// Judged two hours later, clean2 has expired too; clean3 never does.
	deleted, err = token.CleanExpired(ctx, client, now.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(deleted, "bootstrap-token-clean2") || slices.Contains(deleted, "bootstrap-token-clean3") {
		t.Errorf("second pass deleted %v, want clean2 only", deleted)
	}
	if _, err := token.Get(ctx, client, "clean3"); err != nil {
		t.Errorf("token without expiration: %v", err)
	}
}

type stillThere struct{}

func (stillThere) Error() string { return "secret still exists" }

var errStillThere error = stillThere{}
