package node_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"log"
	"os/signal"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/node"
	"github.com/tlsbootstrap/tlsbootstrap/rotate"
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
	cfg, err := kubeconfig.BootstrapConfig(kubeconfig.BootstrapOptions{Server: "https://10.0.0.1:6443", CAData: caPEM, Token: tok.Bearer()})
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

// ExampleRun is the whole node agent as a library: bootstrap (here from a
// --bootstrap-kubeconfig file), then keep the client certificate and a serving certificate
// for the node's addresses renewed until the context ends (SIGTERM). It needs a cluster,
// so it is compiled but not run.
func ExampleRun() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	err := node.Run(ctx, node.RunOptions{
		Options: node.Options{
			BootstrapKubeconfig: "/var/lib/kubelet/bootstrap-kubeconfig",
			Kubeconfig:          "/var/lib/kubelet/kubeconfig",
			CertDir:             "/var/lib/kubelet/pki",
			NodeName:            "worker-1",
		},
		// SANs as the kubelet derives them from these addresses (csr.NodeAddressSANs).
		ServingAddresses: func() []corev1.NodeAddress {
			return []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.0.2.10"}, {Type: corev1.NodeHostName, Address: "worker-1"}}
		},
		OnRotated: func(kind rotate.CertificateKind, old, new *x509.Certificate) {
			fmt.Println("renewed the", kind, "certificate until", new.NotAfter)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
}

// ExampleStart bootstraps, then renews the client certificate on demand while the agent
// keeps it renewed in the background. It needs a cluster, so it is compiled but not run.
func ExampleStart() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	agent, err := node.Start(ctx, node.RunOptions{Options: node.Options{
		BootstrapKubeconfig: "/var/lib/kubelet/bootstrap-kubeconfig",
		Kubeconfig:          "/var/lib/kubelet/kubeconfig",
		CertDir:             "/var/lib/kubelet/pki",
		NodeName:            "worker-1",
	}})
	if err != nil {
		log.Fatal(err)
	}
	cert, err := agent.RenewNow(ctx, rotate.KindClient)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(agent.Client().Status().Rotations, "rotation(s); now", cert.SerialNumber)
	cancel()
	agent.Wait()
}
