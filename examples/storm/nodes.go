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

// simNode is one simulated kubelet: its name, the requests it will make (keys and CSRs
// made before any clock starts, the same for every row), and after a wave its key,
// certificate and the CSR that issued it.
type simNode struct {
	name        string
	join, renew *preparedRequest
	key         crypto.Signer
	certPEM     []byte
	csrName     string
}

// preparedRequest is a kubelet client CSR made in advance: a new ECDSA P-256 key and the
// spec under the kubelet's deterministic name.
type preparedRequest struct {
	key  crypto.Signer
	spec csr.Spec
}

func prepareRequest(nodeName string) (*preparedRequest, error) {
	key, err := csr.GenerateKey(csr.ECDSAP256)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", nodeName, err)
	}
	spec, err := csr.NodeClientSpec(nodeName, key, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", nodeName, err)
	}
	return &preparedRequest{key: key, spec: spec}, nil
}

// newNodes makes n nodes with their join and renewal requests.
func newNodes(n int) ([]*simNode, error) {
	nodes := make([]*simNode, n)
	for i := range nodes {
		nodes[i] = &simNode{name: fmt.Sprintf("storm-node-%05d", i)}
	}
	var g errgroup.Group
	for _, n := range nodes {
		g.Go(func() (err error) {
			if n.join, err = prepareRequest(n.name); err != nil {
				return err
			}
			n.renew, err = prepareRequest(n.name)
			return err
		})
	}
	return nodes, g.Wait()
}

// wave makes every node submit its prepared request (pick chooses which), concurrency at
// a time, each with the client configFor gives it (a bootstrap token, or its own
// certificate for a renewal); it returns when all are issued and how long that took.
func wave(ctx context.Context, nodes []*simNode, concurrency int, pick func(*simNode) *preparedRequest, configFor func(*simNode) (*rest.Config, error)) (time.Duration, error) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	start := time.Now()
	for _, n := range nodes {
		cfg, err := configFor(n)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", n.name, err)
		}
		g.Go(func() error { return n.request(gctx, cfg, pick(n)) })
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// request is the kubelet's part: submit the CSR, wait for the certificate (a watch on
// the CSR) and verify it.
func (n *simNode) request(ctx context.Context, cfg *rest.Config, p *preparedRequest) error {
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("%s: client: %w", n.name, err)
	}
	certPEM, name, err := csr.Request(ctx, client, csr.RequestSpec{Spec: p.spec, Key: p.key})
	if err != nil {
		return fmt.Errorf("%s: %w", n.name, err)
	}
	n.key, n.certPEM, n.csrName = p.key, certPEM, name
	return nil
}

func joinRequest(n *simNode) *preparedRequest  { return n.join }
func renewRequest(n *simNode) *preparedRequest { return n.renew }

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
