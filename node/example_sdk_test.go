package node_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"log"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/discovery"
	"github.com/tlsbootstrap/tlsbootstrap/node"
	"github.com/tlsbootstrap/tlsbootstrap/rbac"
	"github.com/tlsbootstrap/tlsbootstrap/rotate"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// installer stands for what an installer holds: the admin's credentials, the API server's
// address and serving CA, and the cluster's signing CA (in memory, never on disk).
var installer struct {
	admin                   *rest.Config
	server                  string
	servingCA               *x509.Certificate
	servingCAPEM            []byte
	signingCert, signingKey []byte
}

// Example is an installer's whole TLS story, the README's "SDK" section: init (token,
// RBAC, cluster-info, the approver and signer in-process with the CA in memory), join a
// node by token discovery with the CA pin, keep it renewed, and renew now. It needs a
// cluster, so it is compiled but not run (examples/installer runs the same on a real API
// server).
func Example() {
	ctx := context.Background()
	admin, err := kubernetes.NewForConfig(installer.admin)
	if err != nil {
		log.Fatal(err)
	}

	// init: a kubeadm-style token, the RBAC that lets its nodes join, cluster-info for
	// discovery, and the controllers (approve, sign, sign cluster-info) with the CA in memory.
	tok, err := token.Generate()
	if err != nil {
		log.Fatal(err)
	}
	if _, err := token.Create(ctx, admin, token.DefaultSpec(tok)); err != nil { // 24h, kubeadm's group
		log.Fatal(err)
	}
	if err := rbac.Apply(ctx, admin, rbac.KubeadmPreset(token.KubeadmDefaultGroup)); err != nil {
		log.Fatal(err)
	}
	if err := discovery.PublishClusterInfo(ctx, admin, installer.server, installer.servingCAPEM); err != nil {
		log.Fatal(err)
	}
	ca, err := sign.ParseCA(installer.signingCert, installer.signingKey)
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		err := controller.Run(ctx, admin, controller.Options{
			Controllers:      []string{controller.CSRApproving, controller.CSRSigning, controller.CSRCleaner, controller.BootstrapSigner},
			ClusterSigningCA: ca,
		})
		log.Print(err)
	}()

	// join: what `kubeadm join --token --discovery-token-ca-cert-hash` does for TLS, then
	// keep the node's certificates renewed until ctx ends.
	agent, err := node.Start(ctx, node.RunOptions{Options: node.Options{
		Kubeconfig: "/var/lib/kubelet/kubeconfig",
		CertDir:    "/var/lib/kubelet/pki",
		NodeName:   "node-1",
	}, Discovery: &node.Discovery{
		Server: installer.server, Token: tok, CACertHashes: []string{discovery.Pin(installer.servingCA)},
	}})
	if err != nil {
		log.Fatal(err)
	}

	// renew now (an operator's "rotate", a CA change).
	cert, err := agent.RenewNow(ctx, rotate.KindClient)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cert.Subject.CommonName, cert.SerialNumber, cert.NotAfter)
}
