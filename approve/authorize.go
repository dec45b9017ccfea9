package approve

import (
	"context"
	"fmt"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"
)

// Authorizer decides whether a CSR's requester may have a CSR of kind auto-approved.
// allowed=false with a nil error means "not authorized": the approver then ignores the CSR
// (it never denies for lack of authorization). reason is shown in logs and events.
type Authorizer interface {
	Authorize(ctx context.Context, csr *certificatesv1.CertificateSigningRequest, kind Kind) (allowed bool, reason string, err error)
}

// authorizerFunc adapts a function to Authorizer, for callers with their own policy.
type authorizerFunc func(ctx context.Context, csr *certificatesv1.CertificateSigningRequest, kind Kind) (bool, string, error)

// Authorize calls f.
func (f authorizerFunc) Authorize(ctx context.Context, csr *certificatesv1.CertificateSigningRequest, kind Kind) (bool, string, error) {
	return f(ctx, csr, kind)
}

// DefaultSARCacheTTL is how long an allowed SubjectAccessReview answer is reused unless
// SAROptions says otherwise.
func DefaultSARCacheTTL() time.Duration { return 5 * time.Second }

// SAROptions configure NewSARAuthorizer. The zero value is a usable default.
type SAROptions struct {
	// CacheTTL bounds how long an allowed answer is reused for an identical question
	// (same user, uid, groups, extra and kind). It is the bound on how long a revoked
	// binding can still approve: an answer is reused at most CacheTTL after its review was
	// sent, and the server evaluated it after that. Only allowed answers are cached: a
	// denial leads to a requeue with backoff, which already limits repeats, and caching it
	// would only delay approval once a binding appears. nil means DefaultSARCacheTTL; 0
	// disables the cache.
	CacheTTL *time.Duration
	// MaxCacheEntries bounds the cache's size. Default 4096.
	MaxCacheEntries int
	// Timeout bounds each SubjectAccessReview request. Default 10s.
	Timeout time.Duration
	// Clock is the cache's time source; tests pass a fake one. Default: the real clock.
	Clock clock.PassiveClock
}

// NewSARAuthorizer authorizes by SubjectAccessReview, as kube-controller-manager does:
// for the CSR's user, uid, groups and extra, verb create on certificates.k8s.io
// certificatesigningrequests with the kind as subresource. Identical questions asked at
// the same time are sent once, and allowed answers are reused for SAROptions.CacheTTL.
// The client needs create on subjectaccessreviews.
func NewSARAuthorizer(client kubernetes.Interface, opts SAROptions) Authorizer {
	if opts.CacheTTL == nil {
		opts.CacheTTL = new(DefaultSARCacheTTL())
	}
	if opts.MaxCacheEntries <= 0 {
		opts.MaxCacheEntries = 4096
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	a := &sarAuthorizer{client: client, timeout: opts.Timeout}
	a.cache = newSARCache(*opts.CacheTTL, opts.MaxCacheEntries, opts.Clock, a.review)
	return a
}

type sarAuthorizer struct {
	client  kubernetes.Interface
	timeout time.Duration
	cache   *sarCache
}

func (a *sarAuthorizer) Authorize(ctx context.Context, obj *certificatesv1.CertificateSigningRequest, kind Kind) (bool, string, error) {
	if obj == nil {
		return false, "", fmt.Errorf("authorizing CSR: nil object")
	}
	return a.cache.get(ctx, questionFor(obj, kind))
}

// review sends one SubjectAccessReview.
func (a *sarAuthorizer) review(ctx context.Context, q question) (bool, string, error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	extra := make(map[string]authorizationv1.ExtraValue, len(q.extra))
	for k, v := range q.extra {
		extra[k] = authorizationv1.ExtraValue(v)
	}
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:   q.user,
		UID:    q.uid,
		Groups: q.groups,
		Extra:  extra,
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Group:       certificatesv1.GroupName,
			Version:     "*",
			Resource:    "certificatesigningrequests",
			Subresource: string(q.kind),
			Verb:        "create",
		},
	}}
	got, err := a.client.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
	if err != nil {
		return false, "", fmt.Errorf("SubjectAccessReview for %q on certificatesigningrequests/%s: %w", q.user, q.kind, err)
	}
	reason := got.Status.Reason
	if got.Status.EvaluationError != "" {
		reason = fmt.Sprintf("%s (evaluation error: %s)", reason, got.Status.EvaluationError)
	}
	if reason == "" && !got.Status.Allowed {
		reason = fmt.Sprintf("no rule lets %q create certificatesigningrequests/%s", q.user, q.kind)
	}
	return got.Status.Allowed, reason, nil
}
