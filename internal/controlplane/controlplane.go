package controlplane

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	certutil "k8s.io/client-go/util/cert"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Options configure Start. The zero value is a usable default.
type Options struct {
	// TokenAuthFile is a static token file passed as --token-auth-file. Optional.
	TokenAuthFile string
	// CA is the cluster CA the API server trusts for client certificates. A new one is
	// made when nil.
	CA *CA
	// ClientCAs are further PEM CA certificates the API server trusts for client
	// certificates, besides CA (--client-ca-file holds both). Their keys are not needed.
	ClientCAs []byte
	// ExtraArgs are further kube-apiserver flags (name without dashes → values); they
	// override the defaults set here.
	ExtraArgs map[string][]string
	// Output, when set, receives the API server's and etcd's logs.
	Output io.Writer
	// StartTimeout bounds the start of each component. Default 60s.
	StartTimeout time.Duration
}

// ControlPlane is a running kube-apiserver + etcd.
type ControlPlane struct {
	// Config authenticates as an admin (group system:masters) with a client certificate.
	Config *rest.Config
	// CA is the cluster CA: the API server trusts certificates it signs.
	CA *CA
	// Dir holds the files written for other processes: the CA files and admin kubeconfig.
	Dir string
	// CACertFile and CAKeyFile are the cluster CA as PEM files (for signers under test).
	CACertFile, CAKeyFile string
	// KubeconfigFile is an admin kubeconfig for other processes.
	KubeconfigFile string

	env *envtest.Environment
	// restartMu serialises the outage methods (outage.go).
	restartMu sync.Mutex
}

// Start starts etcd and kube-apiserver with bootstrap-token authentication, Node+RBAC
// authorization and NodeRestriction, and waits until the API server serves requests.
func Start(opts Options) (*ControlPlane, error) {
	assets, err := AssetsDir()
	if err != nil {
		return nil, err
	}
	ca := opts.CA
	if ca == nil {
		if ca, err = NewCA("tlsbootstrap-cluster-ca"); err != nil {
			return nil, err
		}
	}
	dir, err := os.MkdirTemp("", "tlsbootstrap-controlplane-")
	if err != nil {
		return nil, fmt.Errorf("creating control-plane folder: %w", err)
	}
	cp := &ControlPlane{
		CA:             ca,
		Dir:            dir,
		CACertFile:     filepath.Join(dir, "ca.crt"),
		CAKeyFile:      filepath.Join(dir, "ca.key"),
		KubeconfigFile: filepath.Join(dir, "admin.kubeconfig"),
	}
	if err := os.WriteFile(cp.CACertFile, ca.CertPEM, 0o644); err != nil {
		return nil, cp.cleanupAfter(fmt.Errorf("writing CA certificate: %w", err))
	}
	if err := os.WriteFile(cp.CAKeyFile, ca.KeyPEM, 0o600); err != nil {
		return nil, cp.cleanupAfter(fmt.Errorf("writing CA key: %w", err))
	}

	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory:    assets,
		ControlPlaneStartTimeout: timeout,
		ControlPlaneStopTimeout:  30 * time.Second,
	}
	api := env.ControlPlane.GetAPIServer()
	if len(opts.ClientCAs) > 0 {
		if _, err := certutil.ParseCertsPEM(opts.ClientCAs); err != nil {
			return nil, cp.cleanupAfter(fmt.Errorf("client CAs: %w", err))
		}
	}
	api.SecureServing.Authn = &caAuthn{ca: ca, extra: opts.ClientCAs}
	if opts.Output != nil {
		api.Out, api.Err = opts.Output, opts.Output
		env.ControlPlane.Etcd = &envtest.Etcd{Out: opts.Output, Err: opts.Output}
	}
	if err := keepStateAcrossRestarts(env, dir); err != nil {
		return nil, cp.cleanupAfter(err)
	}
	args := api.Configure()
	args.Set("enable-bootstrap-token-auth", "true")
	args.Set("authorization-mode", "Node,RBAC")
	args.Set("enable-admission-plugins", "NodeRestriction")
	// Without it a stop waits up to the 60s shutdown timeout for open watches to end
	// (StopAPIServer, Stop): end them as production servers do.
	args.Set("shutdown-watch-termination-grace-period", "2s")
	if opts.TokenAuthFile != "" {
		args.Set("token-auth-file", opts.TokenAuthFile)
	}
	for name, values := range opts.ExtraArgs {
		args.Set(name, values...)
	}

	cfg, err := env.Start()
	if err != nil {
		_ = env.Stop()
		return nil, cp.cleanupAfter(fmt.Errorf("starting kube-apiserver and etcd from %s: %w", assets, err))
	}
	cp.env = env
	cp.Config = cfg
	if err := os.WriteFile(cp.KubeconfigFile, env.KubeConfig, 0o600); err != nil {
		return nil, cp.cleanupAfter(fmt.Errorf("writing admin kubeconfig: %w", err))
	}
	return cp, nil
}

func (cp *ControlPlane) cleanupAfter(err error) error {
	_ = os.RemoveAll(cp.Dir)
	return err
}

// Stop stops the API server and etcd and removes their data.
func (cp *ControlPlane) Stop() error {
	var err error
	if cp.env != nil {
		err = cp.env.Stop()
	}
	_ = os.RemoveAll(cp.Dir)
	return err
}

// Host is the API server's URL.
func (cp *ControlPlane) Host() string { return cp.Config.Host }

// ServingCAPEM is the CA that verifies the API server's serving certificate (what a
// kubeconfig's certificate-authority-data holds).
func (cp *ControlPlane) ServingCAPEM() []byte { return cp.Config.CAData }

// Client is an admin clientset.
func (cp *ControlPlane) Client() kubernetes.Interface {
	return kubernetes.NewForConfigOrDie(cp.Config)
}

// AnonymousConfig reaches the API server with no credentials.
func (cp *ControlPlane) AnonymousConfig() *rest.Config {
	return &rest.Config{
		Host:            cp.Config.Host,
		TLSClientConfig: rest.TLSClientConfig{CAData: cp.Config.CAData},
		QPS:             cp.Config.QPS,
		Burst:           cp.Config.Burst,
	}
}

// TokenConfig authenticates with a bearer token (a bootstrap token or a static one).
func (cp *ControlPlane) TokenConfig(token string) *rest.Config {
	cfg := cp.AnonymousConfig()
	cfg.BearerToken = token
	return cfg
}

// ImpersonatingConfig is the admin impersonating user with groups.
func (cp *ControlPlane) ImpersonatingConfig(user string, groups ...string) *rest.Config {
	cfg := rest.CopyConfig(cp.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups}
	return cfg
}

// UserConfig authenticates as user in groups with a client certificate from the cluster CA.
func (cp *ControlPlane) UserConfig(user string, groups ...string) (*rest.Config, error) {
	certPEM, keyPEM, err := cp.CA.ClientCert(user, groups, 24*time.Hour)
	if err != nil {
		return nil, err
	}
	cfg := cp.AnonymousConfig()
	cfg.CertData, cfg.KeyData = certPEM, keyPEM
	return cfg, nil
}

// caAuthn makes the API server trust the cluster CA for client certificates and provisions
// envtest's users (the admin) with certificates from it.
type caAuthn struct {
	ca    *CA
	extra []byte // further trusted client CAs (PEM)
	path  string
}

var _ envtest.Authn = (*caAuthn)(nil)

func (a *caAuthn) Configure(workDir string, args *envtest.Arguments) error {
	a.path = filepath.Join(workDir, "client-ca.crt")
	args.Set("client-ca-file", a.path)
	return nil
}

func (a *caAuthn) Start() error {
	if a.path == "" {
		return fmt.Errorf("client CA authenticator started before it was configured")
	}
	bundle := append(append([]byte{}, a.ca.CertPEM...), '\n')
	return os.WriteFile(a.path, append(bundle, a.extra...), 0o644)
}

func (a *caAuthn) AddUser(user envtest.User, base *rest.Config) (*rest.Config, error) {
	certPEM, keyPEM, err := a.ca.ClientCert(user.Name, user.Groups, 7*24*time.Hour)
	if err != nil {
		return nil, err
	}
	cfg := rest.CopyConfig(base)
	cfg.CertData, cfg.KeyData = certPEM, keyPEM
	return cfg, nil
}

func (a *caAuthn) Stop() error { return nil }
