package kubeconfig

import (
	"errors"
	"fmt"
	"github.com/tlsbootstrap/tlsbootstrap/token"
	"net/url"
	"path/filepath"

	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Names used by the seed documents' `kubectl config set-cluster bootstrap`,
// `set-credentials kubelet-bootstrap` and `set-context bootstrap`: Bootstrap's defaults.
const (
	defaultBootstrapCluster = "bootstrap"
	defaultBootstrapUser    = "kubelet-bootstrap"
	defaultBootstrapContext = "bootstrap"
)

// Names the kubelet gives the kubeconfig it writes after bootstrapping.
const (
	nodeCluster = "default-cluster"
	nodeUser    = "default-auth"
	nodeContext = "default-context"
	// nodeNamespace is the namespace of the node kubeconfig's context, as the kubelet sets it.
	nodeNamespace = "default"
	// currentClientFile is the cert-dir symlink to the current certificate+key PEM file.
	currentClientFile = "kubelet-client-current.pem"
)

// BootstrapOptions describe a bootstrap kubeconfig.
type BootstrapOptions struct {
	// Server is the API server URL, e.g. https://10.0.0.1:6443. Required.
	Server string
	// CAData (PEM) or CAFile (a path written into the kubeconfig) verify the server; at
	// most one. With neither the system roots are used.
	CAData []byte
	CAFile string
	// Token is the bearer credential: a bootstrap token (token.Token.Bearer), a static
	// token or a service account token (token.NewSecret). Required.
	Token token.Secret
	// ClusterName, UserName, ContextName default to defaultBootstrapCluster,
	// defaultBootstrapUser and defaultBootstrapContext.
	ClusterName, UserName, ContextName string
}

// BootstrapConfig builds the node's bootstrap kubeconfig: one cluster, token credentials and a
// current context joining them.
func BootstrapConfig(opts BootstrapOptions) (*clientcmdapi.Config, error) {
	if err := validateServer(opts.Server); err != nil {
		return nil, fmt.Errorf("bootstrap kubeconfig: %w", err)
	}
	if opts.Token.IsZero() {
		return nil, errors.New("bootstrap kubeconfig: token is empty")
	}
	if len(opts.CAData) > 0 && opts.CAFile != "" {
		return nil, errors.New("bootstrap kubeconfig: set CA data or CA file, not both")
	}
	cluster := orDefault(opts.ClusterName, defaultBootstrapCluster)
	user := orDefault(opts.UserName, defaultBootstrapUser)
	context := orDefault(opts.ContextName, defaultBootstrapContext)

	cfg := clientcmdapi.NewConfig()
	c := clientcmdapi.NewCluster()
	c.Server = opts.Server
	c.CertificateAuthorityData = opts.CAData
	c.CertificateAuthority = opts.CAFile
	cfg.Clusters[cluster] = c
	a := clientcmdapi.NewAuthInfo()
	a.Token = opts.Token.Reveal()
	cfg.AuthInfos[user] = a
	ctx := clientcmdapi.NewContext()
	ctx.Cluster, ctx.AuthInfo = cluster, user
	cfg.Contexts[context] = ctx
	cfg.CurrentContext = context
	return cfg, nil
}

// nodeOptions describe the kubeconfig the kubelet writes once it holds a client
// certificate.
type nodeOptions struct {
	// Server is the API server URL. Required.
	Server string
	// CAFile (preferred when set, as the kubelet does) or CAData verify the server.
	CAFile string
	CAData []byte
	// InsecureSkipTLSVerify is copied from the bootstrap kubeconfig, as the kubelet does.
	InsecureSkipTLSVerify bool
	// CertDir holds currentClientFile; it is made absolute. Required.
	CertDir string
}

// nodeConfig builds the node kubeconfig with the kubelet's names (nodeCluster, nodeUser,
// nodeContext); client-certificate and client-key are both <CertDir>/currentClientFile,
// so that rotation only swaps that symlink.
func nodeConfig(opts nodeOptions) (*clientcmdapi.Config, error) {
	if err := validateServer(opts.Server); err != nil {
		return nil, fmt.Errorf("node kubeconfig: %w", err)
	}
	if opts.CertDir == "" {
		return nil, errors.New("node kubeconfig: cert dir is empty")
	}
	dir, err := filepath.Abs(opts.CertDir)
	if err != nil {
		return nil, fmt.Errorf("node kubeconfig: cert dir %q: %w", opts.CertDir, err)
	}
	pemPath := filepath.Join(dir, currentClientFile)

	cfg := clientcmdapi.NewConfig()
	c := clientcmdapi.NewCluster()
	c.Server = opts.Server
	c.InsecureSkipTLSVerify = opts.InsecureSkipTLSVerify
	if opts.CAFile != "" {
		c.CertificateAuthority = opts.CAFile
	} else {
		c.CertificateAuthorityData = opts.CAData
	}
	cfg.Clusters[nodeCluster] = c
	a := clientcmdapi.NewAuthInfo()
	a.ClientCertificate, a.ClientKey = pemPath, pemPath
	cfg.AuthInfos[nodeUser] = a
	ctx := clientcmdapi.NewContext()
	ctx.Cluster, ctx.AuthInfo, ctx.Namespace = nodeCluster, nodeUser, nodeNamespace
	cfg.Contexts[nodeContext] = ctx
	cfg.CurrentContext = nodeContext
	return cfg, nil
}

// NodeConfigFromREST builds the node kubeconfig from the bootstrap kubeconfig's client
// configuration (see RESTConfig): its server, CA and TLS verification setting.
func NodeConfigFromREST(bootstrap *rest.Config, certDir string) (*clientcmdapi.Config, error) {
	if bootstrap == nil {
		return nil, errors.New("node kubeconfig: no bootstrap client configuration")
	}
	return nodeConfig(nodeOptions{
		Server:                bootstrap.Host,
		CAFile:                bootstrap.CAFile,
		CAData:                bootstrap.CAData,
		InsecureSkipTLSVerify: bootstrap.Insecure,
		CertDir:               certDir,
	})
}

func validateServer(server string) error {
	if server == "" {
		return errors.New("server URL is empty")
	}
	u, err := url.Parse(server)
	if err != nil {
		return fmt.Errorf("server URL %q: want https://host[:port]: %w", server, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("server URL %q: want https://host[:port]", server)
	}
	return nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
