package discovery

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// signingToken returns the token of secret when the bootstrap signer signs with it at now:
// a well-formed token Secret, not expired, whose usage-bootstrap-signing is "true". The
// second result is its expiration (zero when it never expires).
func signingToken(secret *corev1.Secret, now time.Time) (token.Token, time.Time, bool) {
	spec, err := token.SpecFromSecret(secret)
	if err != nil || token.Expired(secret, now) || !spec.HasUsage(token.UsageSigning) {
		return token.Token{}, time.Time{}, false
	}
	return spec.Token, spec.Expires, true
}

// signedConfigMap returns the cluster-info cm should become for the token Secrets at now,
// or nil when it already is: one SignatureKey per signing token over its KubeconfigKey,
// other signatures removed, other keys kept. next is the earliest expiration among the
// signing tokens (zero when none expires), when the result must be computed again. A
// ConfigMap without a kubeconfig gets no signatures.
func signedConfigMap(cm *corev1.ConfigMap, secrets []*corev1.Secret, now time.Time) (updated *corev1.ConfigMap, next time.Time, err error) {
	content, hasContent := cm.Data[KubeconfigKey]
	want := map[string]string{}
	for k, v := range cm.Data {
		if !strings.HasPrefix(k, SignatureKeyPrefix) {
			want[k] = v
		}
	}
	if hasContent {
		for _, s := range secrets {
			tok, expires, ok := signingToken(s, now)
			if !ok {
				continue
			}
			sig, err := signJWS([]byte(content), tok)
			if err != nil {
				return nil, time.Time{}, err
			}
			want[SignatureKey(tok.ID)] = sig
			if !expires.IsZero() && (next.IsZero() || expires.Before(next)) {
				next = expires
			}
		}
	}
	if maps.Equal(want, cm.Data) || (len(want) == 0 && len(cm.Data) == 0) {
		return nil, next, nil
	}
	updated = cm.DeepCopy()
	updated.Data = want
	return updated, next, nil
}

// SignClusterInfo does one pass of the bootstrap signer with direct API calls: it lists
// the token Secrets, signs cluster-info with every signing token valid at now and removes
// the other signatures. It reports whether it wrote the ConfigMap; a missing cluster-info
// is not an error (there is nothing to sign).
func SignClusterInfo(ctx context.Context, client kubernetes.Interface, now time.Time) (bool, error) {
	cm, err := client.CoreV1().ConfigMaps(Namespace).Get(ctx, ConfigMapName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("getting %s/%s: %w", Namespace, ConfigMapName, err)
	}
	list, err := client.CoreV1().Secrets(token.Namespace).List(ctx, metav1.ListOptions{FieldSelector: token.SecretFieldSelector})
	if err != nil {
		return false, fmt.Errorf("listing bootstrap tokens in %s: %w", token.Namespace, err)
	}
	secrets := make([]*corev1.Secret, len(list.Items))
	for i := range list.Items {
		secrets[i] = &list.Items[i]
	}
	updated, _, err := signedConfigMap(cm, secrets, now)
	if err != nil || updated == nil {
		return false, err
	}
	if _, err := client.CoreV1().ConfigMaps(Namespace).Update(ctx, updated, metav1.UpdateOptions{}); err != nil {
		return false, fmt.Errorf("updating signatures of %s/%s: %w", Namespace, ConfigMapName, err)
	}
	return true, nil
}
