package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/rbac"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// cluster is where a row runs: a fresh embedded control plane or --kubeconfig's cluster.
type cluster struct {
	admin          *rest.Config
	kubeconfigFile string
	caCert, caKey  string
	cp             *controlplane.ControlPlane // nil with --kubeconfig
}

// newCluster starts a fresh control plane, or loads --kubeconfig.
func newCluster(f *flags) (*cluster, error) {
	if f.kubeconfig != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", f.kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("loading --kubeconfig: %w", err)
		}
		return &cluster{admin: cfg, kubeconfigFile: f.kubeconfig, caCert: f.caCert, caKey: f.caKey}, nil
	}
	var out io.Writer
	if f.verbose {
		out = os.Stderr
	}
	cp, err := controlplane.Start(controlplane.Options{Output: out})
	if err != nil {
		return nil, err
	}
	return &cluster{admin: cp.Config, kubeconfigFile: cp.KubeconfigFile, caCert: cp.CACertFile, caKey: cp.CAKeyFile, cp: cp}, nil
}

func (c *cluster) close() {
	if c.cp != nil {
		_ = c.cp.Stop()
	}
}

// adminClient has no client-side rate limit: the storm's own bookkeeping must not be
// what limits it.
func (c *cluster) adminClient() (kubernetes.Interface, error) {
	cfg := rest.CopyConfig(c.admin)
	cfg.QPS, cfg.Burst = -1, 0
	return kubernetes.NewForConfig(cfg)
}

// tokenConfig authenticates with a bootstrap token, at client-go's default rate limits,
// as a kubelet's bootstrap client.
func (c *cluster) tokenConfig(tok string) *rest.Config {
	cfg := rest.AnonymousClientConfig(c.admin)
	cfg.BearerToken = tok
	return cfg
}

// certConfig authenticates with a node's client certificate.
func (c *cluster) certConfig(certPEM, keyPEM []byte) *rest.Config {
	cfg := rest.AnonymousClientConfig(c.admin)
	cfg.CertData, cfg.KeyData = certPEM, keyPEM
	return cfg
}

// bootstrapToken creates one bootstrap token (TTL 1h, kubeadm's default group) and
// applies the kubeadm RBAC preset; it returns the token's secret form "id.secret".
func (c *cluster) bootstrapToken(ctx context.Context) (string, error) {
	admin, err := c.adminClient()
	if err != nil {
		return "", err
	}
	tok, err := token.Generate()
	if err != nil {
		return "", err
	}
	spec := token.DefaultSpec(tok)
	spec.TTL = time.Hour
	spec.Description = "tlsbootstrap storm"
	if _, err := token.Create(ctx, admin, spec); err != nil {
		return "", fmt.Errorf("creating the bootstrap token: %w", err)
	}
	if err := rbac.Apply(ctx, admin, rbac.KubeadmPreset(token.KubeadmDefaultGroup)); err != nil {
		return "", fmt.Errorf("applying the kubeadm RBAC preset: %w", err)
	}
	return tok.Reveal(), nil
}
