package token

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var testToken = Token{ID: "abcdef", Secret: "0123456789abcdef"}

func TestSecretFromSpec(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 500, time.FixedZone("CET", 3600))
	tests := []struct {
		name string
		spec Spec
		want map[string]string
	}{
		{
			name: "kubeadm defaults",
			spec: DefaultSpec(testToken),
			want: map[string]string{
				"token-id": "abcdef", "token-secret": "0123456789abcdef",
				"description":                    kubeadmDefaultDescription,
				"expiration":                     "2026-03-02T09:00:00Z",
				"usage-bootstrap-signing":        "true",
				"usage-bootstrap-authentication": "true",
				"auth-extra-groups":              "system:bootstrappers:kubeadm:default-node-token",
			},
		},
		{
			name: "never expires, no usages",
			spec: Spec{Token: testToken},
			want: map[string]string{"token-id": "abcdef", "token-secret": "0123456789abcdef"},
		},
		{
			name: "absolute expiration wins over ttl",
			spec: Spec{Token: testToken, TTL: time.Hour, Expires: time.Date(2030, 1, 2, 3, 4, 5, 999, time.UTC), Usages: []string{UsageAuthentication}},
			want: map[string]string{
				"token-id": "abcdef", "token-secret": "0123456789abcdef",
				"expiration":                     "2030-01-02T03:04:05Z",
				"usage-bootstrap-authentication": "true",
			},
		},
		{
			name: "several groups",
			spec: Spec{Token: testToken, Groups: []string{"system:bootstrappers:a", "system:bootstrappers:b-c:d"}},
			want: map[string]string{
				"token-id": "abcdef", "token-secret": "0123456789abcdef",
				"auth-extra-groups": "system:bootstrappers:a,system:bootstrappers:b-c:d",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			secret, err := SecretFromSpec(tc.spec, now)
			if err != nil {
				t.Fatal(err)
			}
			if secret.Name != "bootstrap-token-abcdef" || secret.Namespace != "kube-system" || secret.Type != "bootstrap.kubernetes.io/token" {
				t.Errorf("secret %s/%s type %s", secret.Namespace, secret.Name, secret.Type)
			}
			got := map[string]string{}
			for k, v := range secret.Data {
				got[k] = string(v)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("data (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name    string
		spec    Spec
		wantErr string
	}{
		{"bad id", Spec{Token: Token{ID: "ABCDEF", Secret: testToken.Secret}}, "token id"},
		{"bad secret", Spec{Token: Token{ID: "abcdef", Secret: "short"}}, "token secret"},
		{"negative ttl", Spec{Token: testToken, TTL: -time.Second}, "negative"},
		{"unknown usage", Spec{Token: testToken, Usages: []string{"authentication", "signin"}}, `unknown usage "signin"`},
		{"group without prefix", Spec{Token: testToken, Groups: []string{"system:nodes"}}, `extra group "system:nodes" must match`},
		{"group prefix only", Spec{Token: testToken, Groups: []string{"system:bootstrappers:"}}, "must match"},
		{"group trailing colon", Spec{Token: testToken, Groups: []string{"system:bootstrappers:a:"}}, "must match"},
		{"group uppercase", Spec{Token: testToken, Groups: []string{"system:bootstrappers:A"}}, "must match"},
		{"group too long", Spec{Token: testToken, Groups: []string{"system:bootstrappers:" + strings.Repeat("a", 257)}}, "must match"},
		{"group empty", Spec{Token: testToken, Groups: []string{""}}, "must match"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := SecretFromSpec(tc.spec, time.Now())
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("error = %v, want ErrInvalidSpec containing %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), testToken.Secret) {
				t.Errorf("error leaks the secret: %v", err)
			}
		})
	}
	longest := "system:bootstrappers:" + strings.Repeat("a", 256)
	if err := validateGroup(longest); err != nil {
		t.Errorf("a group of the maximum length was rejected: %v", err)
	}
}

func TestSpecRoundTrip(t *testing.T) {
	spec := Spec{
		Token:       testToken,
		Description: "for node-1",
		Expires:     time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
		Usages:      []string{UsageAuthentication, UsageSigning},
		Groups:      []string{"system:bootstrappers:x", "system:bootstrappers:y"},
	}
	secret, err := SecretFromSpec(spec, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	got, err := SpecFromSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&spec, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if want := []string{"system:bootstrappers", "system:bootstrappers:x", "system:bootstrappers:y"}; !cmp.Equal(got.AuthGroups(), want) {
		t.Errorf("AuthGroups = %v, want %v", got.AuthGroups(), want)
	}
	if got.UserName() != "system:bootstrap:abcdef" {
		t.Errorf("UserName = %s", got.UserName())
	}
}

func tokenSecret(name string, typ corev1.SecretType, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "kube-system"}, Type: typ, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

func TestSpecFromSecret(t *testing.T) {
	base := func(extra map[string]string) map[string]string {
		d := map[string]string{"token-id": "abcdef", "token-secret": "0123456789abcdef"}
		for k, v := range extra {
			d[k] = v
		}
		return d
	}
	tests := []struct {
		name       string
		secret     *corev1.Secret
		wantErr    string
		wantUsages []string
		wantGroups []string
	}{
		{name: "minimal", secret: tokenSecret("bootstrap-token-abcdef", SecretType, base(nil))},
		{name: "usage counts only when exactly true", secret: tokenSecret("bootstrap-token-abcdef", SecretType, base(map[string]string{
			"usage-bootstrap-authentication": "true", "usage-bootstrap-signing": "True", "usage-bootstrap-other": "true",
		})), wantUsages: []string{"authentication", "other"}},
		{name: "groups in written order", secret: tokenSecret("bootstrap-token-abcdef", SecretType, base(map[string]string{
			"auth-extra-groups": "system:bootstrappers:b,system:bootstrappers:a",
		})), wantGroups: []string{"system:bootstrappers:b", "system:bootstrappers:a"}},
		{name: "wrong type", secret: tokenSecret("bootstrap-token-abcdef", corev1.SecretTypeOpaque, base(nil)), wantErr: `has type "Opaque"`},
		{name: "no token-id", secret: tokenSecret("bootstrap-token-abcdef", SecretType, map[string]string{"token-secret": "0123456789abcdef"}), wantErr: "has no token-id"},
		{name: "name does not match id", secret: tokenSecret("bootstrap-token-zzzzzz", SecretType, base(nil)), wantErr: "named for another token"},
		{name: "bad secret", secret: tokenSecret("bootstrap-token-abcdef", SecretType, base(map[string]string{"token-secret": "x"})), wantErr: "token secret must be"},
		{name: "unparseable expiration", secret: tokenSecret("bootstrap-token-abcdef", SecretType, base(map[string]string{"expiration": "tomorrow"})), wantErr: "is not RFC3339"},
		{name: "invalid group", secret: tokenSecret("bootstrap-token-abcdef", SecretType, base(map[string]string{"auth-extra-groups": "system:bootstrappers:a,,system:bootstrappers:b"})), wantErr: `extra group ""`},
		// Fields quoted in errors that hold the token secret (found by FuzzSpecFromSecret).
		{name: "group holding the secret", secret: tokenSecret("bootstrap-token-abcdef", SecretType, base(map[string]string{"auth-extra-groups": "x0123456789abcdef"})), wantErr: `extra group "x<token secret>" must match`},
		{name: "expiration holding the secret", secret: tokenSecret("bootstrap-token-abcdef", SecretType, base(map[string]string{"expiration": "0123456789abcdef"})), wantErr: `expiration "<token secret>" is not RFC3339`},
		{name: "type holding the secret", secret: tokenSecret("bootstrap-token-abcdef", "0123456789abcdef", base(nil)), wantErr: `has type "<token secret>"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := SpecFromSecret(tc.secret)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "0123456789abcdef") {
					t.Errorf("error leaks the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !cmp.Equal(spec.Usages, tc.wantUsages) || !cmp.Equal(spec.Groups, tc.wantGroups) {
				t.Errorf("usages %v groups %v, want %v %v", spec.Usages, spec.Groups, tc.wantUsages, tc.wantGroups)
			}
		})
	}
}

func TestExpired(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		expiration *string
		want       bool
	}{
		{"no expiration never expires", nil, false},
		{"future", ptr("2026-03-01T10:00:01Z"), false},
		{"future in another zone", ptr("2026-03-01T11:30:00+01:00"), false},
		{"exactly now", ptr("2026-03-01T10:00:00Z"), true},
		{"past", ptr("2026-03-01T09:59:59Z"), true},
		{"unparseable", ptr("2026-03-01 12:00:00"), true},
		{"empty value", ptr(""), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := map[string]string{"token-id": "abcdef", "token-secret": "0123456789abcdef"}
			if tc.expiration != nil {
				data["expiration"] = *tc.expiration
			}
			if got := Expired(tokenSecret("bootstrap-token-abcdef", SecretType, data), now); got != tc.want {
				t.Errorf("Expired = %v, want %v", got, tc.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// withoutSecret keeps errors.Is working for the causes but does not hand out the original
// error (whose message holds the secret) through errors.Unwrap.
func TestWithoutSecret(t *testing.T) {
	const secret = "0123456789abcdef"
	orig := fmt.Errorf("reading %q: %w", secret, ErrInvalidToken)
	err := withoutSecret(orig, secret)
	if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), `reading "<token secret>"`) {
		t.Errorf("message %q", err)
	}
	if !errors.Is(err, ErrInvalidToken) {
		t.Error("errors.Is lost the cause")
	}
	if errors.Unwrap(err) != nil {
		t.Error("errors.Unwrap hands out the unredacted error")
	}
	if got := withoutSecret(orig, "short"); got != orig {
		t.Error("a secret under 8 characters was replaced")
	}
}
