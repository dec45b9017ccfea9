package node_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/node"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// ExampleJoin joins a node as `kubeadm join 10.0.0.1:6443 --token <token>
// --discovery-token-ca-cert-hash <pin>` does for TLS: discovery, then the bootstrap. The
// token stays in memory; only the node's key, certificate and kubeconfig are written. It
// needs a cluster, so it is compiled but not run.
func ExampleJoin() {
	tok, err := token.Parse("abcdef.0123456789abcdef") // from the installer's secret store
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := node.Join(ctx, node.Discovery{
		Server:       "https://10.0.0.1:6443",
		Token:        tok,
		CACertHashes: []string{"sha256:88d5f710eb847d81c7c56925a16cd8f3862a6b1b44d7f998437b34f0aceff529"},
	}, node.Options{
		Kubeconfig: "/var/lib/kubelet/kubeconfig",
		CertDir:    "/var/lib/kubelet/pki",
		NodeName:   "worker-1",
	})
	if err != nil {
		log.Fatal(err) // errors name the fix: a rejected token, a pin mismatch, a denied CSR
	}
	fmt.Println("node kubeconfig:", res.Kubeconfig)
}

// ExampleBootstrap bootstraps with credentials held in memory, here a bootstrap
// kubeconfig built from a token (kubeconfig.Bootstrap); BootstrapKubeconfig takes a file
// instead, as the kubelet's --bootstrap-kubeconfig. It needs a cluster, so it is compiled
// but not run.
func ExampleBootstrap() {
	tok, err := token.Parse("abcdef.0123456789abcdef")
	if err != nil {
		log.Fatal(err)
	}
	caPEM := []byte("-----BEGIN CERTIFICATE-----\n...") // the cluster CA
	cfg, err := kubeconfig.Bootstrap(kubeconfig.BootstrapOptions{Server: "https://10.0.0.1:6443", CAData: caPEM, Token: tok.Bearer()})
	if err != nil {
		log.Fatal(err)
	}
	bootstrap, err := kubeconfig.ClientConfig(cfg)
	if err != nil {
		log.Fatal(err)
	}
	res, err := node.Bootstrap(context.Background(), node.Options{
		Bootstrap:  bootstrap,
		Kubeconfig: "/var/lib/kubelet/kubeconfig",
		CertDir:    "/var/lib/kubelet/pki",
		NodeName:   "worker-1",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Certificate.Subject.CommonName, "until", res.Certificate.NotAfter)
}
