package clustertest

import (
	"io"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// assetsCommand builds the binaries from any module.
const assetsCommand = controlplane.AssetsCommand

// Options configure Start. The zero value is a usable default.
type Options struct {
	// ClientCAs are PEM CA certificates the API server trusts for client certificates,
	// besides its own CA: your signer's, so the certificates it issues authenticate.
	ClientCAs []byte
	// ExtraArgs are further kube-apiserver flags (name without dashes → values).
	ExtraArgs map[string][]string
	// Output, when set, receives the API server's and etcd's logs.
	Output io.Writer
}

// Cluster is a running kube-apiserver and etcd.
type Cluster struct {
	// Config authenticates as an admin (group system:masters) with a client certificate.
	Config *rest.Config
	// Server is the API server's URL; ServingCA is the PEM CA that verifies it (what a
	// node's kubeconfig and cluster-info hold).
	Server    string
	ServingCA []byte
	// SigningCA is the cluster's own client CA, which the API server trusts: a signer
	// under test can sign with it (controller.Options.ClusterSigningCA).
	SigningCA *sign.CA

	cp *controlplane.ControlPlane
}

// Start starts etcd and kube-apiserver and waits until the API server serves requests
// (about 3 s). Stop it when done.
func Start(opts Options) (*Cluster, error) {
	cp, err := controlplane.Start(controlplane.Options{ClientCAs: opts.ClientCAs, ExtraArgs: opts.ExtraArgs, Output: opts.Output})
	if err != nil {
		return nil, err
	}
	return &Cluster{Config: cp.Config, Server: cp.Host(), ServingCA: cp.ServingCAPEM(), SigningCA: cp.CA.Signing(), cp: cp}, nil
}

// Stop stops the API server and etcd and removes their data.
func (c *Cluster) Stop() error { return c.cp.Stop() }

// Client is an admin client.
func (c *Cluster) Client() kubernetes.Interface { return c.cp.Client() }

// TokenConfig authenticates with a bearer credential, such as a bootstrap token's
// (token.Token.Bearer), and verifies the server with ServingCA.
func (c *Cluster) TokenConfig(credential token.Secret) *rest.Config {
	return c.cp.TokenConfig(credential.Reveal())
}
