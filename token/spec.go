package token

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
)

const (
	// Namespace is where the API server's authenticator looks for token Secrets.
	Namespace = metav1.NamespaceSystem
	// SecretType is the type a token Secret must have to authenticate.
	SecretType = bootstrapapi.SecretTypeBootstrapToken
	// secretNamePrefix precedes the token id in the Secret's name.
	secretNamePrefix = bootstrapapi.BootstrapTokenSecretPrefix
	// UserPrefix precedes the token id in the user name a token authenticates as.
	UserPrefix = bootstrapapi.BootstrapUserPrefix
	// DefaultGroup is the group every bootstrap token authenticates in.
	DefaultGroup = bootstrapapi.BootstrapDefaultGroup

	// UsageSigning lets the bootstrap signer sign cluster-info with the token.
	UsageSigning = "signing"
	// UsageAuthentication lets the token authenticate to the API server.
	UsageAuthentication = "authentication"

	// KubeadmDefaultTTL is kubeadm's default token lifetime.
	KubeadmDefaultTTL = 24 * time.Hour
	// KubeadmDefaultGroup is the extra group kubeadm gives its tokens.
	KubeadmDefaultGroup = "system:bootstrappers:kubeadm:default-node-token"
	// kubeadmDefaultDescription is what DefaultSpec writes as the description.
	kubeadmDefaultDescription = "Bootstrap token for joining nodes"
)

// knownUsages are the usages a token Secret may carry.
var knownUsages = []string{UsageSigning, UsageAuthentication}

var groupPattern = regexp.MustCompile(bootstrapapi.BootstrapGroupPattern)

// ErrInvalidSpec is wrapped by the errors Validate returns.
var ErrInvalidSpec = errors.New("invalid bootstrap token spec")

// Spec is everything a bootstrap token Secret says.
type Spec struct {
	// Token is the id and secret.
	Token Token
	// Description is free text for humans.
	Description string
	// TTL is the lifetime counted from the moment the Secret is built. Zero with a zero
	// Expires means the token never expires. Ignored when Expires is set.
	TTL time.Duration
	// Expires is the absolute expiration; it wins over TTL. Stored in UTC, to the second.
	Expires time.Time
	// Usages are from knownUsages. Without UsageAuthentication the token does not log in.
	Usages []string
	// Groups are extra groups, each matching
	// `\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\z`. DefaultGroup is always added by
	// the server and need not be listed.
	Groups []string
}

// DefaultSpec is what kubeadm makes: the given token, TTL 24h, usages signing and
// authentication, group system:bootstrappers:kubeadm:default-node-token.
func DefaultSpec(t Token) Spec {
	return Spec{
		Token:       t,
		Description: kubeadmDefaultDescription,
		TTL:         KubeadmDefaultTTL,
		Usages:      []string{UsageSigning, UsageAuthentication},
		Groups:      []string{KubeadmDefaultGroup},
	}
}

// SecretName is the name of the Secret holding the token with this id.
func SecretName(id string) string { return secretNamePrefix + id }

// UserName is the user the token authenticates as: system:bootstrap:<id>.
func (s Spec) UserName() string { return UserPrefix + s.Token.ID }

// AuthGroups are the groups the API server gives the token: system:bootstrappers plus the
// extra groups, sorted and de-duplicated (system:authenticated is added by the server).
func (s Spec) AuthGroups() []string {
	groups := append([]string{DefaultGroup}, s.Groups...)
	slices.Sort(groups)
	return slices.Compact(groups)
}

// HasUsage reports whether usage is among s.Usages.
func (s Spec) HasUsage(usage string) bool { return slices.Contains(s.Usages, usage) }

// Expiration is when the token expires if its Secret is built at now, and false when it
// never expires.
func (s Spec) Expiration(now time.Time) (time.Time, bool) {
	switch {
	case !s.Expires.IsZero():
		return s.Expires.UTC().Truncate(time.Second), true
	case s.TTL > 0:
		return now.Add(s.TTL).UTC().Truncate(time.Second), true
	default:
		return time.Time{}, false
	}
}

// Validate checks everything the API server's authenticator would reject, before anything
// is written: the token's form, the usages and the extra groups.
func (s Spec) Validate() error {
	if err := parseID(s.Token.ID); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidSpec, err)
	}
	if err := checkSecret(s.Token.Secret); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidSpec, err)
	}
	if s.TTL < 0 {
		return fmt.Errorf("%w: ttl %s is negative", ErrInvalidSpec, s.TTL)
	}
	for _, u := range s.Usages {
		if !slices.Contains(knownUsages, u) {
			return fmt.Errorf("%w: unknown usage %q (known: %s)", ErrInvalidSpec, u, strings.Join(knownUsages, ", "))
		}
	}
	for _, g := range s.Groups {
		if err := validateGroup(g); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidSpec, err)
		}
	}
	return nil
}

// validateGroup checks an extra group as the authenticator does: it must match
// `\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\z`.
func validateGroup(group string) error {
	if !groupPattern.MatchString(group) {
		return fmt.Errorf("extra group %q must match %s", group, bootstrapapi.BootstrapGroupPattern)
	}
	return nil
}

// SecretFromSpec builds the kube-system/bootstrap-token-<id> Secret for spec, with the
// expiration computed from now when spec uses a TTL. It validates spec first.
func SecretFromSpec(spec Spec, now time.Time) (*corev1.Secret, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	data := map[string][]byte{
		bootstrapapi.BootstrapTokenIDKey:     []byte(spec.Token.ID),
		bootstrapapi.BootstrapTokenSecretKey: []byte(spec.Token.Secret),
	}
	if spec.Description != "" {
		data[bootstrapapi.BootstrapTokenDescriptionKey] = []byte(spec.Description)
	}
	if exp, ok := spec.Expiration(now); ok {
		data[bootstrapapi.BootstrapTokenExpirationKey] = []byte(exp.Format(time.RFC3339))
	}
	for _, u := range spec.Usages {
		data[bootstrapapi.BootstrapTokenUsagePrefix+u] = []byte("true")
	}
	if len(spec.Groups) > 0 {
		data[bootstrapapi.BootstrapTokenExtraGroupsKey] = []byte(strings.Join(spec.Groups, ","))
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: SecretName(spec.Token.ID), Namespace: Namespace},
		Type:       SecretType,
		Data:       data,
	}, nil
}

// SpecFromSecret reads a token Secret the way the API server's authenticator does and says
// what is wrong when the Secret cannot authenticate for a reason other than its usages or
// its expiration time having passed: wrong type, a name that does not match token-id, a
// malformed id or secret, an unparseable expiration (the authenticator treats it as
// expired) or an invalid extra group. Usages are those whose value is exactly "true",
// sorted; the returned Spec has Expires set (TTL zero) or neither when the token never
// expires. Its errors quote the Secret's fields but never the token secret, even where a
// field holds it.
func SpecFromSecret(secret *corev1.Secret) (*Spec, error) {
	spec, err := specFromSecret(secret)
	if err != nil && secret != nil {
		err = withoutSecret(err, dataString(secret, bootstrapapi.BootstrapTokenSecretKey))
	}
	return spec, err
}

func specFromSecret(secret *corev1.Secret) (*Spec, error) {
	if secret == nil {
		return nil, fmt.Errorf("bootstrap token secret is nil")
	}
	ref := secret.Namespace + "/" + secret.Name
	if secret.Type != SecretType {
		return nil, fmt.Errorf("secret %s has type %q, want %q", ref, secret.Type, SecretType)
	}
	id := dataString(secret, bootstrapapi.BootstrapTokenIDKey)
	if id == "" {
		return nil, fmt.Errorf("secret %s has no %s", ref, bootstrapapi.BootstrapTokenIDKey)
	}
	if err := parseID(id); err != nil {
		return nil, fmt.Errorf("secret %s: %w", ref, err)
	}
	if secret.Name != SecretName(id) {
		return nil, fmt.Errorf("secret %s is named for another token: want name %s for %s %q", ref, SecretName(id), bootstrapapi.BootstrapTokenIDKey, id)
	}
	tokenSecret := dataString(secret, bootstrapapi.BootstrapTokenSecretKey)
	if err := checkSecret(tokenSecret); err != nil {
		return nil, fmt.Errorf("secret %s: %w", ref, err)
	}
	spec := &Spec{
		Token:       Token{ID: id, Secret: tokenSecret},
		Description: dataString(secret, bootstrapapi.BootstrapTokenDescriptionKey),
	}
	if raw := dataString(secret, bootstrapapi.BootstrapTokenExpirationKey); raw != "" {
		exp, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			return nil, fmt.Errorf("secret %s: %s %q is not RFC3339 (the API server treats the token as expired)", ref, bootstrapapi.BootstrapTokenExpirationKey, raw)
		}
		spec.Expires = exp
	}
	for key, value := range secret.Data {
		usage, ok := strings.CutPrefix(key, bootstrapapi.BootstrapTokenUsagePrefix)
		if ok && string(value) == "true" {
			spec.Usages = append(spec.Usages, usage)
		}
	}
	slices.Sort(spec.Usages)
	if raw := dataString(secret, bootstrapapi.BootstrapTokenExtraGroupsKey); raw != "" {
		for _, g := range strings.Split(raw, ",") {
			if err := validateGroup(g); err != nil {
				return nil, fmt.Errorf("secret %s: %w (the API server rejects the token)", ref, err)
			}
			spec.Groups = append(spec.Groups, g)
		}
	}
	return spec, nil
}

// Expired reports whether the API server considers the token Secret expired at now: an
// expiration in the past (or exactly now) or one it cannot parse. No expiration key means
// it never expires.
func Expired(secret *corev1.Secret, now time.Time) bool {
	_, expired := expiry(secret, now)
	return expired
}

// expiry is the time left and whether the Secret has expired; (0, false) when it never does.
func expiry(secret *corev1.Secret, now time.Time) (time.Duration, bool) {
	raw := dataString(secret, bootstrapapi.BootstrapTokenExpirationKey)
	if raw == "" {
		return 0, false
	}
	exp, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return 0, true
	}
	left := exp.Sub(now)
	if left <= 0 {
		return 0, true
	}
	return left, false
}

// withoutSecret returns err with every occurrence of secret in its message replaced. The
// result still answers errors.Is for err's causes, but does not unwrap to err, whose
// message holds the secret. A secret under 8 characters is left alone: no valid token has
// one, and replacing so short a string would mangle the message.
func withoutSecret(err error, secret string) error {
	if len(secret) < 8 || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(err.Error(), secret, "<token secret>"), cause: err}
}

type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string        { return e.msg }
func (e *redactedError) Is(target error) bool { return errors.Is(e.cause, target) }

func dataString(secret *corev1.Secret, key string) string {
	return string(secret.Data[key])
}
