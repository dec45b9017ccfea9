package controlplane_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
)

var cp *controlplane.ControlPlane

const staticToken = "0123456789abcdef0123456789abcdef"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "controlplane-test-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	tokenFile := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokenFile, []byte(staticToken+`,kubelet-bootstrap,10001,"system:kubelet-bootstrap,extra"`+"\n"), 0o600); err != nil {
		panic(err)
	}
	testenv.Main(m, controlplane.Options{TokenAuthFile: tokenFile}, &cp)
}

// tokenSecret builds a bootstrap token Secret by hand: the token package is tested against
// this same server separately; here the point is that the server itself authenticates.
func tokenSecret(id, secret string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "bootstrap-token-" + id, Namespace: "kube-system"},
		Type:       "bootstrap.kubernetes.io/token",
		StringData: map[string]string{"token-id": id, "token-secret": secret},
	}
	for k, v := range data {
		s.StringData[k] = v
	}
	return s
}

func whoAmI(t *testing.T, cfg *rest.Config) (*authenticationv1.UserInfo, error) {
	t.Helper()
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	review, err := client.AuthenticationV1().SelfSubjectReviews().Create(context.Background(), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return nil, err
	}
	return &review.Status.UserInfo, nil
}

func statusCode(err error) int32 {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return status.Status().Code
	}
	return 0
}

func TestBootstrapTokenAuthentication(t *testing.T) {
	ctx := context.Background()
	admin := cp.Client()
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	secrets := []*corev1.Secret{
		tokenSecret("abcdef", "0123456789abcdef", map[string]string{
			"usage-bootstrap-authentication": "true",
			"auth-extra-groups":              "system:bootstrappers:kubeadm:default-node-token",
			"expiration":                     future,
		}),
		tokenSecret("expird", "0123456789abcdef", map[string]string{"usage-bootstrap-authentication": "true", "expiration": past}),
		tokenSecret("nousag", "0123456789abcdef", map[string]string{"usage-bootstrap-signing": "true"}),
		tokenSecret("notrue", "0123456789abcdef", map[string]string{"usage-bootstrap-authentication": "yes"}),
	}
	for _, s := range secrets {
		if _, err := admin.CoreV1().Secrets("kube-system").Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	info, err := whoAmI(t, cp.TokenConfig("abcdef.0123456789abcdef"))
	if err != nil {
		t.Fatalf("valid bootstrap token: %v", err)
	}
	if info.Username != "system:bootstrap:abcdef" {
		t.Errorf("user = %q, want system:bootstrap:abcdef", info.Username)
	}
	for _, g := range []string{"system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token", "system:authenticated"} {
		if !slices.Contains(info.Groups, g) {
			t.Errorf("groups %v lack %q", info.Groups, g)
		}
	}

	for _, tc := range []struct{ name, token string }{
		{"wrong secret", "abcdef.0123456789abcdex"},
		{"expired", "expird.0123456789abcdef"},
		{"no authentication usage", "nousag.0123456789abcdef"},
		{"usage not exactly true", "notrue.0123456789abcdef"},
		{"unknown id", "zzzzzz.0123456789abcdef"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := whoAmI(t, cp.TokenConfig(tc.token))
			if code := statusCode(err); code != http.StatusUnauthorized {
				t.Fatalf("got %v (HTTP %d), want 401", err, code)
			}
		})
	}
}

func TestStaticTokenFile(t *testing.T) {
	info, err := whoAmI(t, cp.TokenConfig(staticToken))
	if err != nil {
		t.Fatal(err)
	}
	if info.Username != "kubelet-bootstrap" || info.UID != "10001" {
		t.Errorf("user %q uid %q, want kubelet-bootstrap 10001", info.Username, info.UID)
	}
	for _, g := range []string{"system:kubelet-bootstrap", "extra"} {
		if !slices.Contains(info.Groups, g) {
			t.Errorf("groups %v lack %q", info.Groups, g)
		}
	}
}

func TestRBACForbidsBootstrapIdentityUntilBound(t *testing.T) {
	ctx := context.Background()
	admin := cp.Client()
	if _, err := admin.CoreV1().Secrets("kube-system").Create(ctx, tokenSecret("rbacid", "0123456789abcdef", map[string]string{
		"usage-bootstrap-authentication": "true",
	}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	bootstrap := kubernetes.NewForConfigOrDie(cp.TokenConfig("rbacid.0123456789abcdef"))
	// The bootstrap token authenticator reads token Secrets through an informer: until it
	// has seen the new one, the token is unknown (401), not yet forbidden.
	var err error
	_ = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err = bootstrap.CoreV1().Secrets("default").List(ctx, metav1.ListOptions{})
		return statusCode(err) != http.StatusUnauthorized, nil
	})
	if code := statusCode(err); code != http.StatusForbidden {
		t.Fatalf("list secrets before binding: %v (HTTP %d), want 403", err, code)
	}

	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "read-secrets", Namespace: "default"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"list"}}},
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "read-secrets", Namespace: "default"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "system:bootstrap:rbacid"}},
	}
	if _, err := admin.RbacV1().Roles("default").Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RbacV1().RoleBindings("default").Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// RBAC reads bindings through an informer: allow it a moment to see the new one.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err = bootstrap.CoreV1().Secrets("default").List(ctx, metav1.ListOptions{})
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("list secrets after binding: %v", err)
	}
}

func TestClusterCAClientCertificates(t *testing.T) {
	cfg, err := cp.UserConfig("system:node:smoke", "system:nodes")
	if err != nil {
		t.Fatal(err)
	}
	info, err := whoAmI(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if info.Username != "system:node:smoke" || !slices.Contains(info.Groups, "system:nodes") {
		t.Errorf("got %q %v, want system:node:smoke in system:nodes", info.Username, info.Groups)
	}
	other, err := controlplane.NewCA("untrusted")
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := other.ClientCert("intruder", nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	bad := cp.AnonymousConfig()
	bad.CertData, bad.KeyData = certPEM, keyPEM
	if _, err := whoAmI(t, bad); statusCode(err) != http.StatusUnauthorized {
		t.Fatalf("certificate from an untrusted CA: %v, want 401", err)
	}
}
