package controlplane

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// The folders under ControlPlane.Dir that outlive a stop of one component.
const (
	apiServerDir = "apiserver"
	etcdDir      = "etcd"
)

// keepStateAcrossRestarts gives the API server and etcd fixed folders under dir. envtest
// otherwise makes temporary ones and deletes them on Stop, so a restarted API server
// would serve a certificate from a new CA (clients holding the old kubeconfig would stop
// trusting it) and a restarted etcd would come back empty. Stop removes dir as a whole.
func keepStateAcrossRestarts(env *envtest.Environment, dir string) error {
	certDir := filepath.Join(dir, apiServerDir)
	if err := os.Mkdir(certDir, 0o700); err != nil {
		return fmt.Errorf("creating the API server's folder: %w", err)
	}
	env.ControlPlane.GetAPIServer().CertDir = certDir
	if env.ControlPlane.Etcd == nil {
		env.ControlPlane.Etcd = &envtest.Etcd{}
	}
	// etcd creates its data folder itself (with the 0700 mode it insists on).
	env.ControlPlane.Etcd.DataDir = filepath.Join(dir, etcdDir)
	return nil
}

// errNotStarted is returned by the outage methods on a ControlPlane Start did not return.
var errNotStarted = errors.New("control plane not started")

// StopAPIServer stops kube-apiserver and waits until it has exited; etcd keeps running.
// Clients get connection errors until StartAPIServer.
func (cp *ControlPlane) StopAPIServer() error {
	if cp.env == nil {
		return errNotStarted
	}
	cp.restartMu.Lock()
	defer cp.restartMu.Unlock()
	if err := cp.env.ControlPlane.GetAPIServer().Stop(); err != nil {
		return fmt.Errorf("stopping kube-apiserver: %w", err)
	}
	return nil
}

// StartAPIServer starts kube-apiserver again after StopAPIServer, on the same address,
// with the same serving certificate, flags and client CA, and waits until /healthz
// answers ok. Config, KubeconfigFile and every kubeconfig handed out before work again;
// everything stored (token Secrets, RBAC, CSRs) is still there, as etcd kept it.
func (cp *ControlPlane) StartAPIServer() error {
	if cp.env == nil {
		return errNotStarted
	}
	cp.restartMu.Lock()
	defer cp.restartMu.Unlock()
	if err := cp.env.ControlPlane.GetAPIServer().Start(); err != nil {
		return fmt.Errorf("restarting kube-apiserver on %s: %w", cp.Host(), err)
	}
	return nil
}

// StopEtcd stops etcd and waits until it has exited; its data stays on disk. The API
// server keeps running and fails or delays requests until StartEtcd.
func (cp *ControlPlane) StopEtcd() error {
	if cp.env == nil {
		return errNotStarted
	}
	cp.restartMu.Lock()
	defer cp.restartMu.Unlock()
	if err := cp.env.ControlPlane.Etcd.Stop(); err != nil {
		return fmt.Errorf("stopping etcd: %w", err)
	}
	return nil
}

// StartEtcd starts etcd again after StopEtcd, on the same client address and with the
// same data, and waits until its /health answers ok. The running API server reconnects
// by itself.
func (cp *ControlPlane) StartEtcd() error {
	if cp.env == nil {
		return errNotStarted
	}
	cp.restartMu.Lock()
	defer cp.restartMu.Unlock()
	etcd := cp.env.ControlPlane.Etcd
	if err := etcd.Start(); err != nil {
		return fmt.Errorf("restarting etcd on %s: %w", etcd.URL, err)
	}
	return nil
}
