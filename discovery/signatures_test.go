package discovery

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tlsbootstrap/tlsbootstrap/token"
)

func tokenSecret(id, secret string, expires time.Time, usages ...string) *corev1.Secret {
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: token.SecretName(id), Namespace: token.Namespace},
		Type:       token.SecretType,
		Data:       map[string][]byte{"token-id": []byte(id), "token-secret": []byte(secret)},
	}
	if !expires.IsZero() {
		s.Data["expiration"] = []byte(expires.UTC().Format(time.RFC3339))
	}
	for _, u := range usages {
		s.Data["usage-bootstrap-"+u] = []byte("true")
	}
	return s
}

func TestSignedConfigMap(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	const content = "apiVersion: v1\nkind: Config\n"
	sig := func(id, secret string) string {
		s, err := signJWS([]byte(content), token.Token{ID: id, Secret: secret})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	const (
		idA, secretA = "aaaaaa", "0123456789abcdef"
		idB, secretB = "bbbbbb", "fedcba9876543210"
	)
	soon, later := now.Add(time.Minute), now.Add(time.Hour)
	badUsage := tokenSecret(idB, secretB, later)
	badUsage.Data["usage-bootstrap-signing"] = []byte("yes")
	misnamed := tokenSecret(idB, secretB, later, token.UsageSigning)
	misnamed.Name = token.SecretName("cccccc")

	tests := []struct {
		name     string
		data     map[string]string
		secrets  []*corev1.Secret
		want     map[string]string // nil: no update
		wantNext time.Time
	}{
		{
			name:     "signs with each signing token",
			data:     map[string]string{KubeconfigKey: content},
			secrets:  []*corev1.Secret{tokenSecret(idA, secretA, later, token.UsageSigning), tokenSecret(idB, secretB, soon, token.UsageSigning, token.UsageAuthentication)},
			want:     map[string]string{KubeconfigKey: content, SignatureKey(idA): sig(idA, secretA), SignatureKey(idB): sig(idB, secretB)},
			wantNext: soon,
		},
		{
			name:    "no signature without the signing usage",
			data:    map[string]string{KubeconfigKey: content},
			secrets: []*corev1.Secret{tokenSecret(idA, secretA, later, token.UsageAuthentication), badUsage},
		},
		{
			name:    "expired token loses its signature",
			data:    map[string]string{KubeconfigKey: content, SignatureKey(idA): sig(idA, secretA)},
			secrets: []*corev1.Secret{tokenSecret(idA, secretA, now, token.UsageSigning)},
			want:    map[string]string{KubeconfigKey: content},
		},
		{
			name:    "deleted token loses its signature, other keys stay",
			data:    map[string]string{KubeconfigKey: content, "note": "kept", SignatureKey(idA): sig(idA, secretA)},
			secrets: nil,
			want:    map[string]string{KubeconfigKey: content, "note": "kept"},
		},
		{
			name:    "tampered signature is replaced",
			data:    map[string]string{KubeconfigKey: content, SignatureKey(idA): sig(idA, "0000000000000000")},
			secrets: []*corev1.Secret{tokenSecret(idA, secretA, time.Time{}, token.UsageSigning)},
			want:    map[string]string{KubeconfigKey: content, SignatureKey(idA): sig(idA, secretA)},
		},
		{
			name:    "already signed: no update, no expiry for a token that never expires",
			data:    map[string]string{KubeconfigKey: content, SignatureKey(idA): sig(idA, secretA)},
			secrets: []*corev1.Secret{tokenSecret(idA, secretA, time.Time{}, token.UsageSigning)},
		},
		{
			name:    "Secret named for another token is ignored",
			data:    map[string]string{KubeconfigKey: content},
			secrets: []*corev1.Secret{misnamed},
		},
		{
			name:    "no kubeconfig: signatures removed, none added",
			data:    map[string]string{SignatureKey(idA): sig(idA, secretA)},
			secrets: []*corev1.Secret{tokenSecret(idA, secretA, later, token.UsageSigning)},
			want:    map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: ConfigMapName, Namespace: Namespace}, Data: tt.data}
			before := cm.DeepCopy()
			updated, next, err := signedConfigMap(cm, tt.secrets, now)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(before, cm); diff != "" {
				t.Errorf("input modified (-before +after):\n%s", diff)
			}
			if tt.want == nil {
				if updated != nil {
					t.Fatalf("unexpected update to %v", updated.Data)
				}
			} else {
				if updated == nil {
					t.Fatal("no update")
				}
				if diff := cmp.Diff(tt.want, updated.Data); diff != "" {
					t.Errorf("data (-want +got):\n%s", diff)
				}
			}
			if !next.Equal(tt.wantNext) {
				t.Errorf("next = %v, want %v", next, tt.wantNext)
			}
		})
	}
}
