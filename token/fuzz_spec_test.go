package token

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FuzzSpecFromSecret: any Secret (name, type and data keys taken from the fuzzer) gives a
// Spec or an error, never a panic; an error never repeats the token secret, and a Spec it
// returns is one SecretFromSpec accepts again.
func FuzzSpecFromSecret(f *testing.F) {
	f.Add("bootstrap-token-abcdef", "bootstrap.kubernetes.io/token", "abcdef", "0123456789abcdef", "2030-01-01T00:00:00Z", "true", "system:bootstrappers:worker")
	f.Add("bootstrap-token-abcdef", "Opaque", "abcdef", "0123456789abcdef", "", "true", "")
	f.Add("bootstrap-token-abcdeg", "bootstrap.kubernetes.io/token", "abcdef", "0123456789abcdef", "", "yes", "")
	f.Add("bootstrap-token-abcdef", "bootstrap.kubernetes.io/token", "abcdef", "short", "not-a-time", "true", "system:masters")
	f.Add("", "", "", "", "", "", ",,")
	f.Fuzz(func(t *testing.T, name, typ, id, secret, expiration, usage, groups string) {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: Namespace},
			Type:       corev1.SecretType(typ),
			Data: map[string][]byte{
				"token-id":                       []byte(id),
				"token-secret":                   []byte(secret),
				"expiration":                     []byte(expiration),
				"usage-bootstrap-authentication": []byte(usage),
				"usage-bootstrap-signing":        []byte(usage),
				"auth-extra-groups":              []byte(groups),
			},
		}
		spec, err := SpecFromSecret(s)
		if err != nil {
			if len(secret) >= 8 && strings.Contains(err.Error(), secret) {
				t.Fatalf("error %q repeats the token secret", err)
			}
			return
		}
		if spec == nil {
			t.Fatal("SpecFromSecret returned neither a Spec nor an error")
		}
		if spec.Token.ID != id || spec.Token.Secret != secret {
			t.Fatalf("Spec token %q.%q does not match the Secret's %q.%q", spec.Token.ID, "<secret>", id, "<secret>")
		}
		if strings.Contains(fmtAll(spec.Token), spec.Token.Secret) {
			t.Fatal("printing the Spec's token leaks the secret")
		}
	})
}
