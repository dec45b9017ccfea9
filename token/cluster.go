package token

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// Info is a bootstrap token Secret found in a cluster.
type Info struct {
	// ID is the token id (from the Secret's name when the Secret cannot be read).
	ID string
	// SecretName is the Secret's name in Namespace.
	SecretName string
	// UID is the Secret's UID.
	UID types.UID
	// Created is the Secret's creation time.
	Created time.Time
	// Spec is what the Secret says; nil when Err is set.
	Spec *Spec
	// Expired is true when the API server no longer accepts the token because of its
	// expiration (past, or unparseable).
	Expired bool
	// Err says why the Secret cannot authenticate at all (see SpecFromSecret).
	Err error
}

// Create writes the Secret for spec (expiration counted from now when spec has a TTL). It
// fails, without touching anything, when spec is invalid (see Spec.Validate), could never
// be used (an expiration already past, no usage at all) or a token with the same id
// exists.
func Create(ctx context.Context, client kubernetes.Interface, spec Spec) (*corev1.Secret, error) {
	now := time.Now()
	secret, err := SecretFromSpec(spec, now) // validates spec
	if err != nil {
		return nil, err
	}
	if err := checkUsable(spec, now); err != nil {
		return nil, err
	}
	created, err := client.CoreV1().Secrets(Namespace).Create(ctx, secret, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("bootstrap token id %q already exists (secret %s/%s): %w", spec.Token.ID, Namespace, secret.Name, err)
	}
	if err != nil {
		return nil, fmt.Errorf("creating bootstrap token %s: %w", spec.Token, err)
	}
	return created, nil
}

// Get reads the token with the given id (or the id of the given full token).
func Get(ctx context.Context, client kubernetes.Interface, idOrToken string) (*Spec, error) {
	id, err := idOf(idOrToken)
	if err != nil {
		return nil, err
	}
	secret, err := client.CoreV1().Secrets(Namespace).Get(ctx, SecretName(id), metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("getting bootstrap token %q: %w", id, err)
	}
	return SpecFromSecret(secret)
}

// List returns every Secret of the bootstrap token type in Namespace, sorted by id, each
// with its expiration judged at now. Secrets that cannot authenticate are listed with Err.
func List(ctx context.Context, client kubernetes.Interface, now time.Time) ([]Info, error) {
	list, err := client.CoreV1().Secrets(Namespace).List(ctx, metav1.ListOptions{
		FieldSelector: SecretFieldSelector,
	})
	if err != nil {
		return nil, fmt.Errorf("listing bootstrap tokens in %s: %w", Namespace, err)
	}
	infos := make([]Info, 0, len(list.Items))
	for i := range list.Items {
		secret := &list.Items[i]
		info := Info{
			ID:         strings.TrimPrefix(secret.Name, secretNamePrefix),
			SecretName: secret.Name,
			UID:        secret.UID,
			Created:    secret.CreationTimestamp.Time,
			Expired:    Expired(secret, now),
		}
		info.Spec, info.Err = SpecFromSecret(secret)
		if info.Spec != nil {
			info.ID = info.Spec.Token.ID
		}
		infos = append(infos, info)
	}
	slices.SortFunc(infos, func(a, b Info) int { return strings.Compare(a.ID, b.ID) })
	return infos, nil
}

// Delete removes the token with the given id (or the id of the given full token). A token
// already gone is an error that apierrors.IsNotFound recognises.
func Delete(ctx context.Context, client kubernetes.Interface, idOrToken string) error {
	id, err := idOf(idOrToken)
	if err != nil {
		return err
	}
	if err := client.CoreV1().Secrets(Namespace).Delete(ctx, SecretName(id), metav1.DeleteOptions{}); err != nil {
		return fmt.Errorf("deleting bootstrap token %q: %w", id, err)
	}
	return nil
}

// idOf accepts a token id or a whole token and returns the id; errors never echo a secret.
func idOf(idOrToken string) (string, error) {
	if strings.Contains(idOrToken, ".") {
		t, err := Parse(idOrToken)
		if err != nil {
			return "", err
		}
		return t.ID, nil
	}
	if err := parseID(idOrToken); err != nil {
		return "", err
	}
	return idOrToken, nil
}

// checkUsable refuses a spec whose token the API server could never accept or sign with:
// SecretFromSpec builds such Secrets (tests write them on purpose), Create does not.
func checkUsable(spec Spec, now time.Time) error {
	if exp, ok := spec.Expiration(now); ok && !exp.After(now) {
		return fmt.Errorf("%w: bootstrap token %q would be born expired: expiration %s is not after now (%s)",
			ErrInvalidSpec, spec.Token.ID, exp.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if len(spec.Usages) == 0 {
		return fmt.Errorf("%w: bootstrap token %q has no usages: it could neither authenticate (%q) nor sign cluster-info (%q)",
			ErrInvalidSpec, spec.Token.ID, UsageAuthentication, UsageSigning)
	}
	return nil
}
