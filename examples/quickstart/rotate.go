package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/internal/serial"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/rotate"
)

// rotationSigningDuration is the certificates' lifetime with --rotate (the signer's
// minimum), so that the renewed certificates show a short NotAfter.
const rotationSigningDuration = 10 * time.Minute

// renewOnce renews each node's client certificate now (rotate.Manager.RenewNow: a new
// key, a selfnodeclient CSR) and proves the node kubeconfig, which points at the current
// link, authenticates with the new certificate.
func (d *demo) renewOnce(ctx context.Context, results []nodeResult) error {
	step("renewing each node's client certificate once (selfnodeclient CSR, new key; signing duration %s)", rotationSigningDuration)
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	for i := range results {
		r := &results[i]
		g.Go(func() error {
			old := r.res.Certificate
			m, err := manager(r)
			if err != nil {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			renewed, err := m.RenewNow(gctx)
			if err != nil {
				return fmt.Errorf("%s: renewing: %w", r.name, err)
			}
			st := m.Status()
			if err := proveIdentity(gctx, r.res.Kubeconfig, renewed); err != nil {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			mu.Lock()
			defer mu.Unlock()
			done("%s: serial %s -> %s via %s (%s), not after %s, next renewal %s", r.name,
				short(serial.Hex(old.SerialNumber)), short(serial.Hex(renewed.SerialNumber)), st.Path, st.CSR,
				renewed.NotAfter.UTC().Format(time.RFC3339), st.NextDeadline.UTC().Format(time.RFC3339))
			r.res.Certificate = renewed
			return nil
		})
	}
	return g.Wait()
}

// manager is a rotation manager over r's cert-dir and node kubeconfig.
func manager(r *nodeResult) (*rotate.Manager, error) {
	store, err := rotate.NewStore(filepath.Dir(r.res.CertificateFile), rotate.ClientPrefix, rotate.StoreOptions{})
	if err != nil {
		return nil, err
	}
	server, err := kubeconfig.RESTConfig(r.res.Kubeconfig)
	if err != nil {
		return nil, err
	}
	return rotate.NewManager(rotate.ManagerOptions{Store: store, NodeName: r.name, Server: server})
}

// proveIdentity checks the kubeconfig authenticates and now reads the renewed pair.
func proveIdentity(ctx context.Context, path string, renewed *x509.Certificate) error {
	status, err := kubeconfig.Check(path, time.Now())
	if err != nil {
		return err
	}
	if !status.NotAfter.Equal(renewed.NotAfter) {
		return fmt.Errorf("kubeconfig still reads the certificate expiring %s", status.NotAfter)
	}
	cfg, err := kubeconfig.RESTConfig(path)
	if err != nil {
		return err
	}
	if _, err := kubernetes.NewForConfigOrDie(cfg).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("kubeconfig does not authenticate after renewal: %w", err)
	}
	return nil
}

// short keeps the end of a long serial readable in one line.
func short(serial string) string {
	if len(serial) > 8 {
		return "…" + serial[len(serial)-8:]
	}
	return serial
}
