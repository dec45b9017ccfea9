package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/klog/v2"

	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// discoveredBootstrapFile is where the discovered bootstrap kubeconfig goes when
// --bootstrap-kubeconfig is not given: next to --kubeconfig, named as kubeadm names it.
const discoveredBootstrapFile = "bootstrap-kubelet.conf"

// discoveryFlags are kubeadm join's token discovery flags: the node knows only the server,
// a token and pins of the cluster CA, and discovers its bootstrap kubeconfig.
type discoveryFlags struct {
	server       string
	token        string
	caCertHashes []string
	unsafeSkipCA bool
}

func (d *discoveryFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&d.server, "server", "", "API server URL to join through, with --discovery-token (instead of --bootstrap-kubeconfig)")
	fs.StringVar(&d.token, "discovery-token", "", "bootstrap token id.secret: discover and verify cluster-info at --server, then bootstrap with this token")
	fs.StringArrayVar(&d.caCertHashes, "discovery-token-ca-cert-hash", nil, "sha256:<hex> pin of the cluster CA's public key; repeatable, any one must match")
	fs.BoolVar(&d.unsafeSkipCA, "discovery-token-unsafe-skip-ca-verification", false, "with --discovery-token, trust the CA cluster-info names without a pin")
}

func (d *discoveryFlags) enabled() bool { return d.token != "" || d.server != "" }

// complete checks the discovery flags and, when discovering without
// --bootstrap-kubeconfig, chooses where the discovered one is written.
func (d *discoveryFlags) complete(f *flags) error {
	if !d.enabled() {
		return nil
	}
	if d.token == "" || d.server == "" {
		return errors.New("--discovery-token and --server go together")
	}
	if len(d.caCertHashes) == 0 && !d.unsafeSkipCA {
		return errors.New("--discovery-token needs --discovery-token-ca-cert-hash (or, unsafely, --discovery-token-unsafe-skip-ca-verification)")
	}
	if f.bootstrapKubeconfig == "" && f.kubeconfig != "" {
		f.bootstrapKubeconfig = filepath.Join(filepath.Dir(f.kubeconfig), discoveredBootstrapFile)
	}
	return nil
}

// discoverBootstrap writes the discovered bootstrap kubeconfig to --bootstrap-kubeconfig,
// unless the node kubeconfig is already usable and a bootstrap kubeconfig exists (a
// restart after joining needs no token, which may have expired meanwhile).
func discoverBootstrap(ctx context.Context, f *flags, timeout time.Duration) error {
	d := &f.discovery
	if !d.enabled() {
		return nil
	}
	if _, err := kubeconfig.Check(f.kubeconfig, time.Now()); err == nil {
		if _, err := os.Stat(f.bootstrapKubeconfig); err == nil {
			klog.InfoS("kubeconfig already valid, not discovering", "kubeconfig", f.kubeconfig)
			return nil
		}
	}
	klog.InfoS("discovering cluster-info", "server", d.server, "pins", len(d.caCertHashes))
	tok, err := token.Parse(d.token)
	if err != nil {
		return fmt.Errorf("--discovery-token: %w", err)
	}
	cfg, err := kubeconfig.Discover(ctx, kubeconfig.DiscoverOptions{
		Server:                   d.server,
		Token:                    tok,
		CACertHashes:             d.caCertHashes,
		UnsafeSkipCAVerification: d.unsafeSkipCA,
		Timeout:                  timeout,
	})
	if err != nil {
		return err
	}
	if err := kubeconfig.Write(f.bootstrapKubeconfig, cfg); err != nil {
		return fmt.Errorf("writing the discovered bootstrap kubeconfig: %w", err)
	}
	klog.InfoS("wrote the discovered bootstrap kubeconfig", "path", f.bootstrapKubeconfig)
	return nil
}
