package node

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/internal/atomicfile"
	"github.com/tlsbootstrap/tlsbootstrap/internal/deadline"
	"github.com/tlsbootstrap/tlsbootstrap/internal/serial"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/rotate"
)

// tempKeyFile is the key kept in the cert-dir while a bootstrap is under way, so that a
// retry after a failure or crash reuses the same key and so finds the same CSR.
const tempKeyFile = "kubelet-client.key.tmp"

// Options configure Bootstrap. Kubeconfig, CertDir and NodeName are required, and the
// bootstrap credentials (Bootstrap or BootstrapKubeconfig) unless the kubeconfig is
// already usable.
type Options struct {
	// Bootstrap is the low-privilege bootstrap credentials in memory: a token config, or
	// kubeconfig.ClientConfig of kubeconfig.Discover's result. Set it or
	// BootstrapKubeconfig, not both.
	Bootstrap *rest.Config
	// BootstrapKubeconfig is a file holding the bootstrap credentials (the kubelet's
	// --bootstrap-kubeconfig).
	BootstrapKubeconfig string
	// NewClient makes the API client from the bootstrap credentials, for tests and dry
	// runs. Default kubernetes.NewForConfig.
	NewClient func(*rest.Config) (kubernetes.Interface, error)
	// Kubeconfig is written on success; when it is already usable nothing is done.
	Kubeconfig string
	// CertDir holds kubelet-client-*.pem and the current link.
	CertDir string
	// NodeName; the certificate's CN is system:node:<NodeName>.
	NodeName string
	// KeyType of a new key. Default csr.ECDSAP256, as the kubelet.
	KeyType csr.KeyType
	// ExpirationSeconds asks for a certificate lifetime; nil leaves it to the signer.
	ExpirationSeconds *int32
	// ServerWaitTimeout bounds the wait for the API server's /healthz. Default 1m.
	ServerWaitTimeout time.Duration
	// AuthRetryGrace is how long a 401 to the bootstrap credentials is retried, within
	// ServerWaitTimeout, before Bootstrap fails with ErrTokenRejected: a kube-apiserver
	// that has just (re)started answers 401 to bootstrap tokens until it has read their
	// Secrets. nil: csr.AuthRetryGrace (30s); 0: fail at once.
	AuthRetryGrace *time.Duration
	// Clock is the time certificates are judged at. Default the real clock.
	Clock clock.PassiveClock
}

// Result says what Bootstrap did.
type Result struct {
	// Skipped: the kubeconfig was already usable; nothing was requested or written.
	Skipped bool
	// Reused: the cert-dir already held a valid certificate; only the kubeconfig was written.
	Reused bool
	// CSRName of the request made (empty when Skipped or Reused).
	CSRName string
	// Certificate now in use (nil when Skipped).
	Certificate *x509.Certificate
	// CertificateFile is the current link in the cert-dir.
	CertificateFile string
	// Kubeconfig is the node kubeconfig's path (Options.Kubeconfig).
	Kubeconfig string
	// ClockOffset is this node's clock (Options.Clock) minus the API server's, read from the
	// Date header of its /healthz answer, to the second; zero when not measured (Skipped,
	// Reused, or no Date header).
	ClockOffset time.Duration
	// ClockSkew is set, and logged as a warning, when ClockOffset is beyond
	// csr.Backdate or the new certificate is not valid by this node's clock. The
	// bootstrap succeeded all the same.
	ClockSkew *rotate.ClockSkewError
}

// Bootstrap obtains the node's client certificate and kubeconfig as the kubelet does. The
// context bounds the whole bootstrap, including the wait for approval, and carries the
// logger (klog.FromContext).
func Bootstrap(ctx context.Context, opts Options) (*Result, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	opts.defaults()
	if res := opts.usable(ctx, "bootstrapping"); res != nil {
		return res, nil
	}
	return bootstrap(ctx, opts)
}

// usable returns the Skipped result when the node kubeconfig is already usable, nil
// when the node must get a certificate (doing, for the log).
func (o *Options) usable(ctx context.Context, doing string) *Result {
	log := klog.FromContext(ctx).WithValues("node", o.NodeName)
	status, err := kubeconfig.Check(o.Kubeconfig, o.Clock.Now())
	if err == nil {
		log.V(1).Info("kubeconfig is usable, not "+doing, "kubeconfig", o.Kubeconfig, "notAfter", status.NotAfter)
		return &Result{Skipped: true, CertificateFile: status.CertificateFile, Kubeconfig: o.Kubeconfig}
	}
	if !errors.Is(err, os.ErrNotExist) {
		log.Info("kubeconfig is not usable, "+doing, "kubeconfig", o.Kubeconfig, "reason", err.Error())
	}
	return nil
}

// bootstrap is Bootstrap once the kubeconfig is known not to be usable.
func bootstrap(ctx context.Context, opts Options) (*Result, error) {
	log := klog.FromContext(ctx).WithValues("node", opts.NodeName)
	bootstrapConfig, err := opts.bootstrapConfig()
	if err != nil {
		return nil, err
	}
	if bootstrapConfig == nil {
		return nil, errNoCredentials
	}
	store, err := rotate.NewStore(opts.CertDir, rotate.ClientPrefix, rotate.StoreOptions{})
	if err != nil {
		return nil, err
	}
	result := &Result{CertificateFile: store.CurrentPath(), Kubeconfig: opts.Kubeconfig}

	// A valid certificate already in the cert-dir (e.g. the kubeconfig was lost): use it.
	if current, err := store.Current(); err == nil && opts.Clock.Now().Before(current.Leaf.NotAfter) {
		log.Info("using the valid certificate already in the cert-dir", "notAfter", current.Leaf.NotAfter)
		result.Reused, result.Certificate = true, current.Leaf
		return result, writeNodeKubeconfig(bootstrapConfig, opts)
	}

	client, err := opts.NewClient(bootstrapConfig)
	if err != nil {
		return nil, fmt.Errorf("bootstrap client: %w", err)
	}
	if err := waitForServer(ctx, client, opts.ServerWaitTimeout, *opts.AuthRetryGrace, log); err != nil {
		return nil, err
	}
	offset, measured, err := measureClockOffset(ctx, bootstrapConfig, opts.Clock.Now)
	if err != nil {
		log.V(1).Info("could not measure this node's clock offset to the API server", "error", err.Error())
	}
	result.ClockOffset = offset

	keyPath := filepath.Join(opts.CertDir, tempKeyFile)
	key, keyPEM, err := loadOrCreateKey(keyPath, opts.KeyType, log)
	if err != nil {
		return nil, err
	}
	spec, err := csr.NodeClientSpec(opts.NodeName, key, opts.ExpirationSeconds)
	if err != nil {
		return nil, err
	}
	log.Info("requesting client certificate", "csr", spec.Name)
	certPEM, name, err := csr.Request(ctx, client, csr.RequestSpec{Spec: spec, Key: key})
	result.CSRName = name
	if err != nil {
		var denied *csr.DeniedError
		var failed *csr.FailedError
		if errors.As(err, &denied) || errors.As(err, &failed) {
			// The CSR's name is derived from the key: keeping the key would find the same
			// final CSR on every retry. A new key makes the next attempt a new request.
			if rmErr := os.Remove(keyPath); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
				log.Error(rmErr, "could not remove the temporary key", "path", keyPath)
			}
		}
		return result, explain(err, "requesting the node client certificate")
	}
	pair, err := store.Update(certPEM, keyPEM)
	if err != nil {
		return result, err
	}
	result.Certificate = pair.Leaf
	if skew := clockSkew(pair.Leaf, opts.Clock.Now(), offset, measured); skew != nil {
		result.ClockSkew = skew
		log.Info("Warning: clock skew", "clockOffset", skew.Offset.String(), "detail", skew.Error())
	}
	if err := writeNodeKubeconfig(bootstrapConfig, opts); err != nil {
		return result, err
	}
	if err := os.Remove(keyPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		log.Error(err, "could not remove the temporary key", "path", keyPath)
	}
	log.Info("bootstrapped client certificate", "csr", name, "serial", serial.Hex(pair.Leaf.SerialNumber), "notAfter", pair.Leaf.NotAfter)
	return result, nil
}

func (o *Options) validate() error {
	if o.Bootstrap != nil && o.BootstrapKubeconfig != "" {
		return errors.New("node bootstrap: both Bootstrap and BootstrapKubeconfig are set; give one")
	}
	var missing []string
	for _, f := range []struct{ name, value string }{
		{"kubeconfig", o.Kubeconfig},
		{"cert dir", o.CertDir},
		{"node name", o.NodeName},
	} {
		if f.value == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("node bootstrap: missing %v", missing)
	}
	return nil
}

func (o *Options) defaults() {
	if o.KeyType == "" {
		o.KeyType = csr.ECDSAP256
	}
	if o.ServerWaitTimeout == 0 {
		o.ServerWaitTimeout = time.Minute
	}
	if o.AuthRetryGrace == nil {
		o.AuthRetryGrace = new(csr.AuthRetryGrace)
	}
	if o.NewClient == nil {
		o.NewClient = func(c *rest.Config) (kubernetes.Interface, error) { return kubernetes.NewForConfig(c) }
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
}

// waitForServer polls /healthz until it answers ok, giving up at once on a cause retrying
// cannot fix (CA mismatch, clock skew), and on a rejected token once it has been rejected
// for authGrace.
func waitForServer(ctx context.Context, client kubernetes.Interface, timeout, authGrace time.Duration, log klog.Logger) error {
	var last error
	var rejectedSince, waitingSince time.Time
	err := wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		_, err := client.Discovery().RESTClient().Get().AbsPath("/healthz").Do(ctx).Raw()
		if err != nil && last != nil && deadline.Passed(ctx) {
			// The deadline, not the server, failed this poll (client-go's rate limiter
			// refuses a request past it); the server's last answer is the useful error.
			return false, nil
		}
		if err == nil {
			if !waitingSince.IsZero() {
				log.Info("The API server is healthy", "waited", time.Since(waitingSince).Round(time.Second).String())
			}
			return true, nil
		}
		last = explain(err, "checking the API server's /healthz")
		if waitingSince.IsZero() {
			waitingSince = time.Now()
			log.Info("Waiting for the API server", "timeout", timeout.String(), "error", last.Error())
		}
		if errors.Is(last, ErrTokenRejected) && authGrace > 0 {
			if rejectedSince.IsZero() {
				rejectedSince = time.Now()
				log.Info("The API server rejected the bootstrap token; retrying in case it has just restarted (it rejects bootstrap tokens until it has read their Secrets)", "for", authGrace.String())
			}
			if time.Since(rejectedSince) < authGrace {
				return false, nil
			}
		}
		if permanent(last) {
			return false, last
		}
		log.V(1).Info("waiting for the API server", "error", err.Error())
		return false, nil
	})
	switch {
	case err == nil:
		return nil
	case last == nil:
		return fmt.Errorf("waiting for the API server: %w", err)
	case permanent(last):
		return last
	case ctx.Err() != nil:
		return fmt.Errorf("stopped waiting for the API server (%w): %w", context.Cause(ctx), last)
	}
	return fmt.Errorf("the API server did not become healthy within %s: %w", timeout, last)
}

// loadOrCreateKey reuses the temporary key of an earlier attempt, or makes and saves one.
func loadOrCreateKey(path string, keyType csr.KeyType, log klog.Logger) (crypto.Signer, []byte, error) {
	if data, err := os.ReadFile(path); err == nil {
		if key, err := csr.ParseKeyPEM(data); err == nil && csr.ValidateKey(key.Public()) == nil {
			log.V(1).Info("reusing the key of an earlier attempt", "path", path)
			return key, data, nil
		}
		log.Info("discarding an unusable temporary key", "path", path)
	}
	key, err := csr.GenerateKey(keyType)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := csr.MarshalKeyPEM(key)
	if err != nil {
		return nil, nil, err
	}
	if err := atomicfile.Write(path, keyPEM, 0o600); err != nil {
		return nil, nil, fmt.Errorf("saving the temporary key: %w", err)
	}
	return key, keyPEM, nil
}

func writeNodeKubeconfig(bootstrap *rest.Config, opts Options) error {
	cfg, err := kubeconfig.NodeConfigFromREST(bootstrap, opts.CertDir)
	if err != nil {
		return err
	}
	if err := kubeconfig.Write(opts.Kubeconfig, cfg); err != nil {
		return fmt.Errorf("writing the node kubeconfig: %w", err)
	}
	return nil
}
