package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// Discovery is kubeadm join's token discovery: where to join, the bootstrap token, and
// pins of the cluster CA.
type Discovery struct {
	// Server is the API server to join through, https://host:port (kubeadm join's
	// argument). Required.
	Server string
	// Token is the bootstrap token (--token). It signs the discovery and authenticates
	// the bootstrap; it is held in memory only. Required.
	Token token.Token
	// CACertHashes pin the cluster CA, "sha256:<hex>" (--discovery-token-ca-cert-hash).
	// Required unless UnsafeSkipCAVerification.
	CACertHashes []string
	// UnsafeSkipCAVerification trusts whatever CA the token-signed cluster-info names.
	UnsafeSkipCAVerification bool
	// Timeout bounds the discovery. Default 5m (kubeconfig.DiscoverOptions).
	Timeout time.Duration
}

// String shows the discovery with the token redacted; Format does the same
// for every verb (%#v included), so a *Discovery inside other options never shows the token.
func (d Discovery) String() string {
	return fmt.Sprintf("{Server:%s Token:%v CACertHashes:%v UnsafeSkipCAVerification:%t Timeout:%s}",
		d.Server, d.Token, d.CACertHashes, d.UnsafeSkipCAVerification, d.Timeout)
}

// goString is %#v's form, redacted.
func (d Discovery) goString() string { return "node.Discovery" + d.String() }

// Format redacts for every fmt verb.
func (d Discovery) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, d.goString())
		return
	}
	_, _ = io.WriteString(f, d.String())
}

// Join is what `kubeadm join` does for TLS: it discovers the cluster with d
// (kubeconfig.Discover: cluster-info signed with the token, its CA checked against the
// pins, fetched again over verified TLS), then bootstraps the node's client certificate
// and kubeconfig with the token (Bootstrap; leave opts' bootstrap credentials empty). The
// token and the bootstrap credentials stay in memory: the only files written are the
// node's key, certificate and kubeconfig. A node whose kubeconfig is already usable is
// left alone, without discovery (its token may have expired since it joined).
func Join(ctx context.Context, d Discovery, opts Options) (*Result, error) {
	if opts.Bootstrap != nil || opts.BootstrapKubeconfig != "" {
		return nil, errors.New("node join: leave Options.Bootstrap and BootstrapKubeconfig empty: Join discovers them")
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	opts.defaults()
	if res := opts.usable(ctx, "joining"); res != nil {
		return res, nil
	}
	discovered, err := kubeconfig.Discover(ctx, kubeconfig.DiscoverOptions{
		Server: d.Server, Token: d.Token, CACertHashes: d.CACertHashes,
		UnsafeSkipCAVerification: d.UnsafeSkipCAVerification, Timeout: d.Timeout,
	})
	if err != nil {
		return nil, fmt.Errorf("node join: %w", err)
	}
	if opts.Bootstrap, err = kubeconfig.ClientConfig(discovered); err != nil {
		return nil, fmt.Errorf("node join: %w", err)
	}
	return bootstrap(ctx, opts)
}
