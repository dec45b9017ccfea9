package main

import (
	"context"
	"crypto"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// simNode is one simulated kubelet: its name, and after a wave its key, certificate and
// the CSR that issued it.
type simNode struct {
	name    string
	key     crypto.Signer
	certPEM []byte
	csrName string
}

func newNodes(n int) []*simNode {
	nodes := make([]*simNode, n)
	for i := range nodes {
		nodes[i] = &simNode{name: fmt.Sprintf("storm-node-%05d", i)}
	}
	return nodes
}

// wave makes every node request a new client certificate, concurrency at a time, each
// with the client configFor gives it (a bootstrap token, or its own certificate for a
// renewal); it returns when all are issued and how long that took.
func wave(ctx context.Context, nodes []*simNode, concurrency int, configFor func(*simNode) (*rest.Config, error)) (time.Duration, error) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	start := time.Now()
	for _, n := range nodes {
		cfg, err := configFor(n)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", n.name, err)
		}
		g.Go(func() error { return n.request(gctx, cfg) })
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// request is the kubelet's part: a new ECDSA P-256 key, the kubelet client CSR under its
// deterministic name, the wait for the certificate and its verification.
func (n *simNode) request(ctx context.Context, cfg *rest.Config) error {
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("%s: client: %w", n.name, err)
	}
	key, err := csr.GenerateKey(csr.ECDSAP256)
	if err != nil {
		return fmt.Errorf("%s: %w", n.name, err)
	}
	spec, err := csr.NodeClientSpec(n.name, key, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", n.name, err)
	}
	certPEM, name, err := csr.Request(ctx, client, csr.RequestSpec{Spec: spec, Key: key})
	if err != nil {
		return fmt.Errorf("%s: %w", n.name, err)
	}
	n.key, n.certPEM, n.csrName = key, certPEM, name
	return nil
}

// renewalConfig authenticates as the node with its current certificate (selfnodeclient).
func renewalConfig(c *cluster) func(*simNode) (*rest.Config, error) {
	return func(n *simNode) (*rest.Config, error) {
		keyPEM, err := csr.MarshalKeyPEM(n.key)
		if err != nil {
			return nil, err
		}
		return c.certConfig(n.certPEM, keyPEM), nil
	}
}

func csrNames(nodes []*simNode) []string {
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.csrName
	}
	return names
}
