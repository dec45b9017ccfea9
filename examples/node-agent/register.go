package main

import (
	"context"
	"fmt"

	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"

	"github.com/tlsbootstrap/tlsbootstrap/internal/nodereg"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
)

// registerNode creates or updates the node's own Node object with its new identity, with
// status.addresses from --node-ip and the node name as hostname (what the serving approver
// checks a serving certificate's SANs against).
func registerNode(ctx context.Context, f *flags) error {
	cfg, err := kubeconfig.RESTConfig(f.kubeconfig)
	if err != nil {
		return fmt.Errorf("register node: %w", err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("register node: %w", err)
	}
	n, err := nodereg.Register(ctx, client, nodereg.Options{NodeName: f.nodeName, Addresses: nodereg.Addresses(f.nodeIPs, f.nodeName)})
	if err != nil {
		return err
	}
	klog.InfoS("registered node", "node", n.Name, "addresses", n.Status.Addresses)
	return nil
}
