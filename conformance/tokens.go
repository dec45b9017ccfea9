package conformance

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// tokenOptions describe a bootstrap token Secret the suite creates in the documented
// format (k8s.io/cluster-bootstrap), written here by hand so the check does not trust any helper.
type tokenOptions struct {
	expires        time.Time // zero: never
	authentication bool      // usage-bootstrap-authentication
	groups         []string  // auth-extra-groups
}

// bootstrapToken is a token the suite created, deleted at cleanup.
type bootstrapToken struct {
	id, secret string
}

func (b bootstrapToken) value() string { return b.id + "." + b.secret }

func (b bootstrapToken) user() string { return "system:bootstrap:" + b.id }

// createToken writes kube-system/bootstrap-token-<id> and removes it at cleanup.
func (t *caseT) createToken(ctx context.Context, opts tokenOptions) bootstrapToken {
	tok, err := token.Generate()
	if err != nil {
		t.Fatalf("generating a bootstrap token: %v", err)
	}
	data := map[string]string{
		"token-id":                tok.ID,
		"token-secret":            tok.Secret,
		"description":             "tlsbootstrap conformance suite",
		"usage-bootstrap-signing": "true",
	}
	if opts.authentication {
		data["usage-bootstrap-authentication"] = "true"
	}
	if !opts.expires.IsZero() {
		data["expiration"] = opts.expires.UTC().Format(time.RFC3339)
	}
	if len(opts.groups) > 0 {
		data["auth-extra-groups"] = strings.Join(opts.groups, ",")
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "bootstrap-token-" + tok.ID, Namespace: metav1.NamespaceSystem, Labels: suiteLabels},
		Type:       corev1.SecretType("bootstrap.kubernetes.io/token"),
		StringData: data,
	}
	secrets := t.Client.CoreV1().Secrets(metav1.NamespaceSystem)
	if _, err := secrets.Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating bootstrap token Secret %s: %v", secret.Name, err)
	}
	t.cleanup(func(ctx context.Context) error {
		return ignoreNotFound(secrets.Delete(ctx, secret.Name, metav1.DeleteOptions{}))
	})
	return bootstrapToken{id: tok.ID, secret: tok.Secret}
}

// bearerConfig reaches the API server like the admin config but with only a bearer token.
func (t *caseT) bearerConfig(value string) *rest.Config {
	rc := rest.AnonymousClientConfig(t.RESTConfig)
	rc.BearerToken = value
	return rc
}

func (t *caseT) bearerClient(value string) kubernetes.Interface {
	client, err := kubernetes.NewForConfig(t.bearerConfig(value))
	if err != nil {
		t.Fatalf("building a bearer-token client: %v", err)
	}
	return client
}

// waitAuthenticates waits until the token logs in (the authenticator reads Secrets
// through a cache) and returns who it is.
func (t *caseT) waitAuthenticates(ctx context.Context, tok bootstrapToken) (string, []string) {
	var user string
	var groups []string
	client := t.bearerClient(tok.value())
	t.Eventually(ctx, fmt.Sprintf("bootstrap token %s.<secret> to authenticate", tok.id), func(ctx context.Context) (bool, string, error) {
		u, g, err := whoAmI(ctx, client)
		if err != nil {
			return false, err.Error(), nil
		}
		user, groups = u, g
		return true, "", nil
	})
	return user, groups
}
