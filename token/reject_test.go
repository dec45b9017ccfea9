package token_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tlsbootstrap/tlsbootstrap/internal/faults"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/node"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// writeSecret writes the Secret SecretFromSpec builds for spec with the admin client, as
// someone bypassing token.Create would (Create refuses expired or useless specs), then
// lets mutate spoil it. It is deleted when the test ends.
func writeSecret(t *testing.T, spec token.Spec, mutate func(*corev1.Secret)) {
	t.Helper()
	secret, err := token.SecretFromSpec(spec, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(secret)
	}
	secrets := cp.Client().CoreV1().Secrets(token.Namespace)
	if _, err := secrets.Create(context.Background(), secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = secrets.Delete(context.Background(), secret.Name, metav1.DeleteOptions{}) })
}

// TestBadTokensRejected: every kind of bad bootstrap token is refused by the SDK with an
// error that names what is wrong, and nothing is written. Three ways in:
//   - create: token.Create with a bad spec; no Secret may appear in kube-system.
//   - stored: a bad Secret written behind the SDK's back; token.Get says what is wrong
//     with it, and a node bootstrapping with the token (node.Bootstrap against the real
//     API server) is refused and writes no key, certificate, kubeconfig or CSR.
//   - a node presenting a token that does not match a good Secret (wrong secret, unknown id).
func TestBadTokensRejected(t *testing.T) {
	testenv.Need(t)
	needCluster(t)
	ctx := context.Background()
	client := cp.Client()
	rejected := 0
	faults.Record(t, "bad bootstrap tokens", func() string {
		return fmt.Sprintf("%d kinds rejected with a clear error, nothing written", rejected)
	})

	const secret = "0123456789abcdef"
	auth := []string{token.UsageAuthentication}
	valid := func(id string) token.Spec {
		return token.Spec{Token: token.Token{ID: id, Secret: secret}, TTL: time.Hour, Usages: auth}
	}
	with := func(spec token.Spec, change func(*token.Spec)) token.Spec { change(&spec); return spec }
	setData := func(key, value string) func(*corev1.Secret) {
		return func(s *corev1.Secret) { s.Data[key] = []byte(value) }
	}

	tests := []struct {
		name string
		// create: token.Create(create) must fail with an error containing wantCreate.
		create     *token.Spec
		wantCreate []string
		// stored: written raw (spoiled by mutate); token.Get(stored id) must fail with
		// wantGet, or succeed when wantGet is empty and then pass getCheck.
		stored   *token.Spec
		mutate   func(*corev1.Secret)
		wantGet  []string
		getCheck func(*token.Spec, *corev1.Secret) error
		// node: the token a node presents (default: the stored one); it must be refused
		// with ErrTokenRejected and a message containing wantNode.
		node     string
		wantNode []string
	}{
		// Refused by token.Create: nothing reaches the API server.
		{name: "create: already expired", create: ptr(with(valid("rjct01"), func(s *token.Spec) { s.TTL, s.Expires = 0, time.Now().Add(-time.Hour) })),
			wantCreate: []string{`bootstrap token "rjct01" would be born expired`, "expiration"}},
		{name: "create: negative ttl", create: ptr(with(valid("rjct02"), func(s *token.Spec) { s.TTL = -time.Minute })),
			wantCreate: []string{"ttl -1m0s is negative"}},
		{name: "create: malformed id", create: ptr(with(valid("rjct03"), func(s *token.Spec) { s.Token.ID = "RJCT03" })),
			wantCreate: []string{"token id must be 6 characters of [a-z0-9], character 1 is not"}},
		{name: "create: id too short", create: ptr(with(valid("rjct04"), func(s *token.Spec) { s.Token.ID = "rjct" })),
			wantCreate: []string{"token id must be 6 characters", "got 4 characters"}},
		{name: "create: secret too short", create: ptr(with(valid("rjct05"), func(s *token.Spec) { s.Token.Secret = "0123456789" })),
			wantCreate: []string{"token secret must be 16 characters", "got 10 characters"}},
		{name: "create: secret with capitals", create: ptr(with(valid("rjct06"), func(s *token.Spec) { s.Token.Secret = "0123456789ABCDEF" })),
			wantCreate: []string{"token secret must be 16 characters of [a-z0-9]"}},
		{name: "create: no usage", create: ptr(with(valid("rjct07"), func(s *token.Spec) { s.Usages = nil })),
			wantCreate: []string{`bootstrap token "rjct07" has no usages`, `"authentication"`, `"signing"`}},
		{name: "create: unknown usage", create: ptr(with(valid("rjct08"), func(s *token.Spec) { s.Usages = []string{"authentication", "root"} })),
			wantCreate: []string{`unknown usage "root"`}},
		{name: "create: group outside system:bootstrappers", create: ptr(with(valid("rjct09"), func(s *token.Spec) { s.Groups = []string{"system:masters"} })),
			wantCreate: []string{`extra group "system:masters" must match`, "system:bootstrappers"}},
		{name: "create: empty group", create: ptr(with(valid("rjct10"), func(s *token.Spec) { s.Groups = []string{""} })),
			wantCreate: []string{`extra group "" must match`}},

		// Written behind the SDK's back: Get names the defect, the node is refused.
		{name: "stored: expired", stored: ptr(with(valid("rjct20"), func(s *token.Spec) { s.TTL, s.Expires = 0, time.Now().Add(-time.Minute) })),
			getCheck: func(_ *token.Spec, s *corev1.Secret) error {
				if !token.Expired(s, time.Now()) {
					return errors.New("token.Expired says the Secret has not expired")
				}
				return nil
			},
			wantNode: []string{"expired"}},
		{name: "stored: signing usage only", stored: ptr(with(valid("rjct21"), func(s *token.Spec) { s.Usages = []string{token.UsageSigning} })),
			getCheck: func(s *token.Spec, _ *corev1.Secret) error {
				if s.HasUsage(token.UsageAuthentication) {
					return errors.New("Get reports the authentication usage")
				}
				return nil
			},
			wantNode: []string{"usage-bootstrap-authentication"}},
		{name: "stored: usage not exactly \"true\"", stored: ptr(valid("rjct22")), mutate: setData("usage-bootstrap-authentication", "yes"),
			getCheck: func(s *token.Spec, _ *corev1.Secret) error {
				if len(s.Usages) != 0 {
					return fmt.Errorf("Get reports usages %v from a value other than \"true\"", s.Usages)
				}
				return nil
			},
			wantNode: []string{"usage-bootstrap-authentication"}},
		{name: "stored: invalid extra group", stored: ptr(valid("rjct23")), mutate: setData("auth-extra-groups", "system:bootstrappers:ok,system:masters"),
			wantGet: []string{"secret kube-system/bootstrap-token-rjct23", `extra group "system:masters" must match`, "the API server rejects the token"}, wantNode: []string{"auth-extra-groups"}},
		{name: "stored: wrong type", stored: ptr(valid("rjct24")), mutate: func(s *corev1.Secret) { s.Type = corev1.SecretTypeOpaque },
			wantGet: []string{`has type "Opaque", want "bootstrap.kubernetes.io/token"`}, wantNode: []string{"Secret is malformed"}},
		{name: "stored: token-id of another token", stored: ptr(valid("rjct25")), mutate: setData("token-id", "other1"),
			wantGet: []string{"is named for another token", "bootstrap-token-other1"}, wantNode: []string{"Secret is malformed"}},
		{name: "stored: malformed token-secret", stored: ptr(valid("rjct26")), mutate: setData("token-secret", "short"),
			wantGet: []string{"token secret must be 16 characters", "got 5 characters"}, wantNode: []string{"Secret is malformed"}},
		{name: "stored: unparseable expiration", stored: ptr(valid("rjct27")), mutate: setData("expiration", "tomorrow"),
			wantGet: []string{`expiration "tomorrow" is not RFC3339`, "treats the token as expired"}, wantNode: []string{"expired"}},

		// A good Secret, a node presenting something else.
		{name: "node: wrong secret", stored: ptr(valid("rjct30")), node: "rjct30.fedcba9876543210", wantNode: []string{"unknown"}},
		{name: "node: unknown id", node: "rjct31." + secret, wantNode: []string{"unknown"}},
	}

	// Write every stored Secret, then a good canary token, and wait until the canary
	// authenticates: the API server's authenticator reads Secrets through an informer,
	// so once it knows the canary it knows every Secret written before, and a refusal
	// below is for the token's defect, not for a Secret not seen yet.
	for _, tc := range tests {
		if tc.stored != nil {
			writeSecret(t, *tc.stored, tc.mutate)
		}
	}
	canary := valid("rjct99")
	if _, err := token.Create(ctx, client, canary); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = token.Delete(context.Background(), client, canary.Token.ID) })
	if err := eventually(15*time.Second, func() error { _, err := whoAmI(ctx, cp.TokenConfig(canary.Token.Reveal())); return err }); err != nil {
		t.Fatalf("the canary token never authenticated: %v", err)
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.create != nil {
				_, err := token.Create(ctx, client, *tc.create)
				wantError(t, "token.Create", err, tc.wantCreate)
				if !errors.Is(err, token.ErrInvalidSpec) {
					t.Errorf("token.Create error %v does not wrap ErrInvalidSpec", err)
				}
				if strings.Contains(fmt.Sprint(err), tc.create.Token.Secret) {
					t.Errorf("the error repeats the token secret: %v", err)
				}
				name := token.SecretName(tc.create.Token.ID)
				if _, err := client.CoreV1().Secrets(token.Namespace).Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
					t.Errorf("Secret %s/%s after a refused Create: %v, want NotFound", token.Namespace, name, err)
				}
			}
			if tc.stored != nil && tc.node == "" {
				spec, err := token.Get(ctx, client, tc.stored.Token.ID)
				if len(tc.wantGet) > 0 {
					wantError(t, "token.Get", err, tc.wantGet)
				} else if err != nil {
					t.Errorf("token.Get: %v", err)
				} else if tc.getCheck != nil {
					raw, err := client.CoreV1().Secrets(token.Namespace).Get(ctx, token.SecretName(tc.stored.Token.ID), metav1.GetOptions{})
					if err != nil {
						t.Fatal(err)
					}
					if err := tc.getCheck(spec, raw); err != nil {
						t.Error(err)
					}
				}
			}
			if tc.stored != nil || tc.node != "" {
				value := tc.node
				if value == "" {
					value = tc.stored.Token.Reveal()
				}
				nodeRefused(t, value, tc.wantNode)
			}
			if !t.Failed() {
				rejected++
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func wantError(t *testing.T, what string, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s succeeded, want an error containing %q", what, want)
		return
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s error %q does not contain %q", what, err, w)
		}
	}
}

// nodeRefused bootstraps a node with tokenValue against the real API server and checks it
// is refused as ErrTokenRejected, with every want in the message, and that it wrote
// nothing: no kubeconfig, no file in the cert-dir, no CSR by the token's user.
func nodeRefused(t *testing.T, tokenValue string, want []string) {
	t.Helper()
	cfg, err := kubeconfig.BootstrapConfig(kubeconfig.BootstrapOptions{Server: cp.Host(), CAData: cp.ServingCAPEM(), Token: token.NewSecret(tokenValue)})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bootstrapPath := filepath.Join(dir, "bootstrap.kubeconfig")
	if err := kubeconfig.Write(bootstrapPath, cfg); err != nil {
		t.Fatal(err)
	}
	opts := node.Options{
		BootstrapKubeconfig: bootstrapPath,
		Kubeconfig:          filepath.Join(dir, "kubelet.kubeconfig"),
		CertDir:             filepath.Join(dir, "pki"),
		NodeName:            "reject-node",
		ServerWaitTimeout:   10 * time.Second,
		AuthRetryGrace:      new(time.Duration(0)),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = node.Bootstrap(ctx, opts)
	if !errors.Is(err, node.ErrTokenRejected) {
		t.Errorf("node.Bootstrap: %v, want ErrTokenRejected", err)
	}
	wantError(t, "node.Bootstrap", err, want)
	if id, secret, ok := strings.Cut(tokenValue, "."); ok && err != nil && strings.Contains(err.Error(), secret) {
		t.Errorf("node.Bootstrap error repeats the secret of token %s: %v", id, err)
	}
	if _, err := os.Stat(opts.Kubeconfig); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("kubeconfig written by a refused bootstrap: %v", err)
	}
	if entries, err := os.ReadDir(opts.CertDir); err == nil && len(entries) > 0 {
		t.Errorf("cert-dir holds %d entries after a refused bootstrap (first %s)", len(entries), entries[0].Name())
	}
	id, _, _ := strings.Cut(tokenValue, ".")
	csrs, err := cp.Client().CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range csrs.Items {
		if c.Spec.Username == token.UserPrefix+id {
			t.Errorf("CSR %s was created by %s", c.Name, c.Spec.Username)
		}
	}
}
