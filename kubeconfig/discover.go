package kubeconfig

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/tlsbootstrap/tlsbootstrap/discovery"
	"github.com/tlsbootstrap/tlsbootstrap/internal/deadline"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// Defaults of DiscoverOptions, kubeadm's.
const (
	defaultDiscoveryTimeout       = 5 * time.Minute
	defaultDiscoveryRetryInterval = 5 * time.Second
)

// Reasons Discover fails, besides discovery.ErrBadSignature and discovery.ErrPinMismatch
// (a *discovery.PinMismatchError), which it wraps as they come.
var (
	// ErrNoCACertHashes: no pins were given and UnsafeSkipCAVerification is not set.
	ErrNoCACertHashes = errors.New("no CA certificate hashes given: pass at least one sha256:<hex> pin of the cluster CA, or opt out of CA verification explicitly")
	// ErrNoSignature: cluster-info never carried a signature for the token id (unknown or
	// expired token, a token without the signing usage, or no bootstrap signer running).
	ErrNoSignature = errors.New("cluster-info has no signature for the token id")
	// ErrContentChanged: the kubeconfig fetched over verified TLS differs from the one that
	// was verified.
	ErrContentChanged = errors.New("cluster-info changed between the unverified and the verified fetch")
)

// DiscoverOptions describe token discovery (kubeadm join --discovery-token).
type DiscoverOptions struct {
	// Server is the API server address to join through, https://host:port. Required.
	Server string
	// Token is the bootstrap token (token.Parse). It signs the discovery and becomes the
	// bootstrap kubeconfig's credential. Required.
	Token token.Token
	// CACertHashes are allowed pins of the cluster CA ("sha256:<hex>", any case); the
	// published CA must match one. Required unless UnsafeSkipCAVerification.
	CACertHashes []string
	// UnsafeSkipCAVerification trusts whatever CA the token-signed cluster-info names when
	// no pins are given: anyone who knows the token could then impersonate the cluster.
	UnsafeSkipCAVerification bool
	// Timeout bounds the whole discovery, including waiting for the signature. Default 5m
	// (as kubeadm).
	Timeout time.Duration
	// RetryInterval is the wait between fetches while cluster-info is unreadable or not
	// yet signed for the token. Default defaultDiscoveryRetryInterval.
	RetryInterval time.Duration
	// ClusterName, UserName, ContextName name the result's entries (see BootstrapOptions).
	ClusterName, UserName, ContextName string
}

// discoverHook, when set by tests, runs between the verified steps and the final fetch.
var discoverHook func()

// Discover returns a bootstrap kubeconfig for a node that knows only the API server
// address, a bootstrap token and pins of the cluster CA, as kubeadm join does: it fetches
// kube-public/cluster-info anonymously without TLS verification, waits (bounded by Timeout)
// for the token id's signature, verifies it with the token secret, checks the published
// CA against the pins, fetches cluster-info again over TLS verified by that CA and
// requires the same kubeconfig. The result uses the published server and CA and
// authenticates with the token. The token is never sent over the unverified connection.
func Discover(ctx context.Context, opts DiscoverOptions) (*clientcmdapi.Config, error) {
	if err := validateServer(opts.Server); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	tok := opts.Token
	if tok.IsZero() {
		return nil, errors.New("discovery: no bootstrap token")
	}
	pins, err := discovery.ParsePins(opts.CACertHashes)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	if pins.Len() == 0 && !opts.UnsafeSkipCAVerification {
		return nil, fmt.Errorf("discovery: %w", ErrNoCACertHashes)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = defaultDiscoveryTimeout
	}
	interval := opts.RetryInterval
	if interval <= 0 {
		interval = defaultDiscoveryRetryInterval
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	insecure, err := clusterInfoClient(opts.Server, nil)
	if err != nil {
		return nil, err
	}
	content, signature, err := waitForSignature(ctx, insecure, opts.Server, tok.ID, interval)
	if err != nil {
		return nil, err
	}
	if err := discovery.Verify(signature, content, tok); err != nil {
		return nil, fmt.Errorf("discovery from %s: cannot trust this API server: %w", opts.Server, err)
	}
	info, err := discovery.ParseClusterInfo(content)
	if err != nil {
		return nil, fmt.Errorf("discovery from %s: %w", opts.Server, err)
	}
	if pins.Len() > 0 {
		if err := pins.Check(info.CACerts...); err != nil {
			return nil, fmt.Errorf("discovery from %s: %w", opts.Server, err)
		}
	}
	if discoverHook != nil {
		discoverHook()
	}

	secure, err := clusterInfoClient(opts.Server, info.CAData)
	if err != nil {
		return nil, err
	}
	cm, err := secure.CoreV1().ConfigMaps(discovery.Namespace).Get(ctx, discovery.ConfigMapName, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("discovery from %s: fetching %s/%s over TLS verified by the discovered CA: %w", opts.Server, discovery.Namespace, discovery.ConfigMapName, err)
	}
	if !bytes.Equal([]byte(cm.Data[discovery.KubeconfigKey]), content) {
		return nil, fmt.Errorf("discovery from %s: %w", opts.Server, ErrContentChanged)
	}
	return BootstrapConfig(BootstrapOptions{
		Server:      info.Server,
		CAData:      info.CAData,
		Token:       tok.Bearer(),
		ClusterName: opts.ClusterName,
		UserName:    opts.UserName,
		ContextName: opts.ContextName,
	})
}

// clusterInfoClient is an anonymous client of server, verifying TLS with caPEM, or not at
// all when caPEM is nil.
func clusterInfoClient(server string, caPEM []byte) (kubernetes.Interface, error) {
	cfg := &rest.Config{
		Host:      server,
		UserAgent: "tlsbootstrap-discovery",
		Timeout:   30 * time.Second,
	}
	if caPEM == nil {
		cfg.Insecure = true
	} else {
		cfg.CAData = caPEM
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery: client for %s: %w", server, err)
	}
	return client, nil
}

// waitForSignature fetches cluster-info until it holds a kubeconfig and a signature for id,
// and returns both. Failures to fetch are retried too; the last one is reported.
func waitForSignature(ctx context.Context, client kubernetes.Interface, server, id string, interval time.Duration) ([]byte, string, error) {
	start := time.Now()
	ref := discovery.Namespace + "/" + discovery.ConfigMapName
	var last error
	for {
		cm, err := client.CoreV1().ConfigMaps(discovery.Namespace).Get(ctx, discovery.ConfigMapName, metav1.GetOptions{})
		switch {
		case err != nil && !deadline.Passed(ctx):
			last = fetchError(ref, err)
		case err != nil:
		case cm.Data[discovery.KubeconfigKey] == "":
			last = fmt.Errorf("%s has no %q key", ref, discovery.KubeconfigKey)
		default:
			sig, ok := cm.Data[discovery.SignatureKey(id)]
			if ok {
				return []byte(cm.Data[discovery.KubeconfigKey]), sig, nil
			}
			last = fmt.Errorf("%w %s in %s (the token is unknown or expired, lacks the signing usage, or no bootstrap signer runs)", ErrNoSignature, id, ref)
		}
		select {
		case <-ctx.Done():
			if last == nil {
				last = context.Cause(ctx)
			}
			return nil, "", fmt.Errorf("discovery from %s: gave up after %s: %w", server, time.Since(start).Round(time.Millisecond), last)
		case <-time.After(interval):
		}
	}
}

// fetchError says what an anonymous fetch failure usually means.
func fetchError(ref string, err error) error {
	switch {
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("anonymous requests are not authenticated (is --anonymous-auth off?): %w", err)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("anonymous users may not get %s (was cluster-info published with its Role?): %w", ref, err)
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%s does not exist (was cluster-info published?): %w", ref, err)
	}
	return fmt.Errorf("fetching %s: %w", ref, err)
}
