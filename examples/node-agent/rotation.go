package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"time"

	"k8s.io/klog/v2"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/node"
	"github.com/tlsbootstrap/tlsbootstrap/rotate"
)

// startRotation starts the client and serving certificate managers the flags ask for.
func startRotation(ctx context.Context, f *flags) ([]*rotate.Manager, error) {
	if !f.rotateClient && !f.rotateServing {
		return nil, nil
	}
	server, err := kubeconfig.RESTConfig(f.kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("node kubeconfig: %w", err)
	}
	bootstrap, err := kubeconfig.RESTConfig(f.bootstrapKubeconfig)
	if err != nil {
		return nil, fmt.Errorf("bootstrap kubeconfig: %w", err)
	}
	clientStore, err := rotate.NewStore(f.certDir, rotate.ClientPrefix, rotate.StoreOptions{})
	if err != nil {
		return nil, err
	}
	client, err := rotate.NewManager(f.managerConfig(rotate.Config{
		Store: clientStore, Kind: rotate.KindClient, NodeName: f.nodeName, Server: server, Bootstrap: bootstrap,
	}))
	if err != nil {
		return nil, err
	}
	var managers []*rotate.Manager
	if f.rotateClient {
		managers = append(managers, client)
	}
	if f.rotateServing {
		servingStore, err := rotate.NewStore(f.certDir, rotate.ServingPrefix, rotate.StoreOptions{})
		if err != nil {
			return nil, err
		}
		serving, err := rotate.NewManager(f.managerConfig(rotate.Config{
			Store: servingStore, Kind: rotate.KindServing, NodeName: f.nodeName,
			// The SANs a kubelet asks for, from the addresses --register-node writes.
			Addresses: func() ([]string, []net.IP) { return csr.NodeAddressSANs(node.Addresses(f.nodeIPs, f.nodeName)) },
			// No bootstrap fallback: a bootstrap identity cannot get a node's serving
			// certificate approved.
			Client: rotate.NodeClient(rotate.NodeClientOptions{Server: server, Certificate: client.Current}),
		}))
		if err != nil {
			return nil, err
		}
		managers = append(managers, serving)
	}
	for _, m := range managers {
		if err := m.Start(ctx); err != nil {
			return nil, err
		}
		st := m.Status()
		klog.InfoS("rotating certificate", "kind", st.Kind, "serial", st.Serial, "notAfter", st.NotAfter)
	}
	return managers, nil
}

// managerConfig applies --renew-after. Each manager logs its rotations itself ("rotated
// certificate" with the old and new serial, NotAfter and the next deadline).
func (f *flags) managerConfig(cfg rotate.Config) rotate.Config {
	if f.renewAfter > 0 {
		after := f.renewAfter
		cfg.Deadline = func(*x509.Certificate) time.Time { return time.Now().Add(after) }
	}
	return cfg
}
