package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/rotate"
)

// RunOptions configure Start and Run: the bootstrap's Options, and what to keep renewed.
type RunOptions struct {
	// Options bootstrap the node. Once the node kubeconfig is usable, the bootstrap
	// credentials are only the fallback for an expired client certificate, and may be
	// left out.
	Options
	// Discovery, when set, joins the node by token discovery (Join) instead of with
	// Options' bootstrap credentials; the discovered credentials are then the fallback.
	Discovery *Discovery
	// ServingAddresses, when set, also keeps a kubelet serving certificate (signer
	// kubernetes.io/kubelet-serving) for the SANs a kubelet derives from these Node
	// addresses (csr.NodeAddressSANs). It is asked before each decision; no request is
	// made while it returns none.
	ServingAddresses func() []corev1.NodeAddress
	// Deadline, when set, says when each certificate is renewed (demos and tests).
	// Default: uniformly in 70–90 % of its lifetime (as the kubelet).
	Deadline func(cert *x509.Certificate) time.Time
	// OnRotated, when set, is called after each renewal is stored.
	OnRotated func(kind rotate.CertificateKind, old, new *x509.Certificate)
}

// Agent is a bootstrapped node that keeps its certificates renewed: what the kubelet's
// certificate managers do, as a library.
type Agent struct {
	result  *Result
	client  *rotate.Manager
	serving *rotate.Manager // nil without ServingAddresses
	stopped chan struct{}
}

// Start bootstraps the node (Bootstrap) and starts renewing its client certificate, and
// its serving certificate when asked, in the background until ctx ends. It returns once
// the node has a usable client certificate and kubeconfig.
func Start(ctx context.Context, opts RunOptions) (*Agent, error) {
	var res *Result
	var err error
	if opts.Discovery != nil {
		res, err = Join(ctx, *opts.Discovery, opts.Options)
	} else {
		res, err = Bootstrap(ctx, opts.Options)
	}
	if err != nil {
		return nil, err
	}
	server, err := kubeconfig.RESTConfig(opts.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("node kubeconfig: %w", err)
	}
	bootstrap, err := opts.bootstrapConfig()
	if err != nil {
		return nil, err
	}
	a := &Agent{result: res, stopped: make(chan struct{})}
	if a.client, err = opts.manager(rotate.KindClient, server, bootstrap, nil); err != nil {
		return nil, err
	}
	if opts.ServingAddresses != nil {
		if a.serving, err = opts.manager(rotate.KindServing, server, nil, a.client.Current); err != nil {
			return nil, err
		}
	}
	var running sync.WaitGroup
	for _, m := range a.managers() {
		running.Go(func() { _ = m.Run(ctx) }) // a new Manager: Run refuses only a second run
	}
	go func() {
		running.Wait()
		close(a.stopped)
	}()
	return a, nil
}

// Run is the whole node agent: Start, then renew until ctx ends. It returns nil once the
// renewals have stopped after ctx ended, or the bootstrap's error.
func Run(ctx context.Context, opts RunOptions) error {
	a, err := Start(ctx, opts)
	if err != nil {
		return err
	}
	a.Wait()
	return nil
}

// Result is what the bootstrap did.
func (a *Agent) Result() *Result { return a.result }

// Client is the client certificate's manager (Current, Status, RenewNow).
func (a *Agent) Client() *rotate.Manager { return a.client }

// Serving is the serving certificate's manager, nil without RunOptions.ServingAddresses.
func (a *Agent) Serving() *rotate.Manager { return a.serving }

// RenewNow renews the certificate of kind at once and returns the new one; a renewal of
// it already under way is joined (rotate.Manager.RenewNow).
func (a *Agent) RenewNow(ctx context.Context, kind rotate.CertificateKind) (*x509.Certificate, error) {
	switch {
	case kind == rotate.KindClient:
		return a.client.RenewNow(ctx)
	case kind == rotate.KindServing && a.serving != nil:
		return a.serving.RenewNow(ctx)
	}
	return nil, fmt.Errorf("node agent: no %s certificate is kept", kind)
}

// Wait blocks until the renewals have stopped (after Start's ctx ended).
func (a *Agent) Wait() { <-a.stopped }

func (a *Agent) managers() []*rotate.Manager {
	if a.serving == nil {
		return []*rotate.Manager{a.client}
	}
	return []*rotate.Manager{a.client, a.serving}
}

// bootstrapConfig is the fallback credentials for an expired client certificate, nil when
// none were given.
func (o *Options) bootstrapConfig() (*rest.Config, error) {
	if o.Bootstrap != nil || o.BootstrapKubeconfig == "" {
		return o.Bootstrap, nil
	}
	cfg, err := kubeconfig.RESTConfig(o.BootstrapKubeconfig)
	if err != nil {
		return nil, fmt.Errorf("reading bootstrap kubeconfig: %w", err)
	}
	return cfg, nil
}

// manager builds the rotation manager of kind over the node's cert-dir.
func (o *RunOptions) manager(kind rotate.CertificateKind, server, bootstrap *rest.Config, clientCert func() *tls.Certificate) (*rotate.Manager, error) {
	prefix := rotate.ClientPrefix
	if kind == rotate.KindServing {
		prefix = rotate.ServingPrefix
	}
	store, err := rotate.NewStore(o.CertDir, prefix, rotate.StoreOptions{})
	if err != nil {
		return nil, err
	}
	cfg := rotate.ManagerOptions{Store: store, Kind: kind, NodeName: o.NodeName, Server: server, Bootstrap: bootstrap,
		KeyType: o.KeyType, ExpirationSeconds: o.ExpirationSeconds, Deadline: o.Deadline}
	if o.OnRotated != nil {
		onRotated := o.OnRotated
		cfg.OnRotated = func(old, new *x509.Certificate) { onRotated(kind, old, new) }
	}
	if kind == rotate.KindServing {
		addresses := o.ServingAddresses
		cfg.Addresses = func() ([]string, []net.IP) { return csr.NodeAddressSANs(addresses()) }
		// Requested with the node's own client certificate; a bootstrap identity cannot
		// have a node's serving certificate approved.
		cfg.Client = rotate.NodeClient(rotate.NodeClientOptions{Server: server, Certificate: clientCert})
	}
	return rotate.NewManager(cfg)
}

var errNoCredentials = errors.New("node bootstrap: the kubeconfig is not usable and no bootstrap credentials are given (Bootstrap or BootstrapKubeconfig)")
