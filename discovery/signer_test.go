package discovery_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/tlsbootstrap/tlsbootstrap/discovery"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// runSigner runs a Signer until the test ends.
func runSigner(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- discovery.NewClusterInfoSigner(cp.Client(), token.WatchOptions{}).Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("signer: %v", err)
		}
	})
}

// signatureState says whether cluster-info carries a valid signature for tok ("signed"),
// none ("unsigned"), or one that does not verify.
func signatureState(t *testing.T, tok token.Token) string {
	cm := clusterInfo(t)
	sig, ok := cm.Data[discovery.SignatureKey(tok.ID)]
	if !ok {
		return "unsigned"
	}
	if err := discovery.Verify(sig, []byte(cm.Data[discovery.KubeconfigKey]), tok); err != nil {
		return fmt.Sprintf("bad: %v", err)
	}
	return "signed"
}

func waitState(t *testing.T, tok token.Token, want string) {
	t.Helper()
	eventually(t, 15*time.Second, func() string {
		if got := signatureState(t, tok); got != want {
			return fmt.Sprintf("signature of token %s: %s, want %s", tok.ID, got, want)
		}
		return ""
	})
}

func TestSignerFollowsTokens(t *testing.T) {
	ctx := context.Background()
	admin := cp.Client()
	publish(t)
	runSigner(t)

	signing := newToken(t, time.Now().Add(time.Hour), token.UsageSigning, token.UsageAuthentication)
	authOnly := newToken(t, time.Now().Add(time.Hour), token.UsageAuthentication)
	forever := newToken(t, time.Time{}, token.UsageSigning)
	t.Run("signs tokens with the signing usage", func(t *testing.T) {
		waitState(t, signing, "signed")
		waitState(t, forever, "signed")
	})
	t.Run("tokens without the signing usage get none", func(t *testing.T) {
		// The signing tokens above are signed, so the signer has seen this one too.
		if got := signatureState(t, authOnly); got != "unsigned" {
			t.Errorf("token without the signing usage: %s", got)
		}
	})
	t.Run("re-signs when the kubeconfig changes", func(t *testing.T) {
		before := clusterInfo(t).Data[discovery.SignatureKey(signing.ID)]
		if err := discovery.PublishClusterInfo(ctx, admin, "https://lb.example:6443", cp.ServingCAPEM()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { publish(t) })
		eventually(t, 15*time.Second, func() string {
			cm := clusterInfo(t)
			if cm.Data[discovery.SignatureKey(signing.ID)] == before {
				return "signature unchanged after the kubeconfig changed"
			}
			return ""
		})
		waitState(t, signing, "signed")
	})
	t.Run("repairs a tampered signature", func(t *testing.T) {
		// The signer under test writes the same ConfigMap: retry the tampering on conflict.
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cm := clusterInfo(t)
			cm.Data[discovery.SignatureKey(signing.ID)] = "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..VShe2taLd-YTrmWuRkcL_8QTNDHYxQIEBsAYYiIj1_8"
			_, err := admin.CoreV1().ConfigMaps(discovery.Namespace).Update(ctx, cm, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		waitState(t, signing, "signed")
	})
	t.Run("removes stale signatures", func(t *testing.T) {
		stale := token.Token{ID: "stale0", Secret: "0123456789abcdef"}
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cm := clusterInfo(t)
			sig, err := discovery.Sign([]byte(cm.Data[discovery.KubeconfigKey]), stale)
			if err != nil {
				return err
			}
			cm.Data[discovery.SignatureKey(stale.ID)] = sig
			_, err = admin.CoreV1().ConfigMaps(discovery.Namespace).Update(ctx, cm, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		waitState(t, stale, "unsigned")
	})
	t.Run("updates when a token gains the signing usage", func(t *testing.T) {
		secret, err := admin.CoreV1().Secrets(token.Namespace).Get(ctx, token.SecretName(authOnly.ID), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		secret.Data["usage-bootstrap-signing"] = []byte("true")
		if _, err := admin.CoreV1().Secrets(token.Namespace).Update(ctx, secret, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitState(t, authOnly, "signed")
	})
	t.Run("removes the signature of a deleted token", func(t *testing.T) {
		if err := token.Delete(ctx, admin, signing.ID); err != nil {
			t.Fatal(err)
		}
		waitState(t, signing, "unsigned")
		waitState(t, forever, "signed")
	})
	t.Run("removes the signature when the token expires", func(t *testing.T) {
		// No token cleaner runs here: the Secret stays, the signer acts on the expiry itself.
		expiring := newToken(t, time.Now().Add(3*time.Second), token.UsageSigning)
		waitState(t, expiring, "signed")
		waitState(t, expiring, "unsigned")
		if _, err := admin.CoreV1().Secrets(token.Namespace).Get(ctx, token.SecretName(expiring.ID), metav1.GetOptions{}); err != nil {
			t.Fatalf("the expired token Secret should still exist: %v", err)
		}
	})
}

func TestSignClusterInfoOnce(t *testing.T) {
	ctx := context.Background()
	publish(t)
	tok := newToken(t, time.Now().Add(time.Hour), token.UsageSigning)
	changed, err := discovery.SignClusterInfo(ctx, cp.Client(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !changed {
		t.Error("first pass reported no change")
	}
	if got := signatureState(t, tok); got != "signed" {
		t.Errorf("after one pass: %s", got)
	}
	if changed, err = discovery.SignClusterInfo(ctx, cp.Client(), time.Now()); err != nil || changed {
		t.Errorf("second pass: changed=%v, err=%v; want no change", changed, err)
	}
	// Two hours later the token has expired.
	if _, err = discovery.SignClusterInfo(ctx, cp.Client(), time.Now().Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := signatureState(t, tok); got != "unsigned" {
		t.Errorf("after expiry: %s", got)
	}
}
