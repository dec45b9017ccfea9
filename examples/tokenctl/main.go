// Command tokenctl is an admin CLI for kubelet TLS bootstrapping, in the spirit of
// `kubeadm token` and the seed documents: bootstrap tokens, static token file lines,
// the bootstrap RBAC presets, bootstrap kubeconfigs, the cluster-info that token
// discovery reads, and CSR listing and approval.
//
//	go run ./examples/tokenctl --help
//	go run ./examples/tokenctl create --ttl 1h --description "rack 7"
//	go run ./examples/tokenctl rbac apply --preset kubeadm
//	go run ./examples/tokenctl cluster-info publish --server https://10.0.0.1:6443
//	go run ./examples/tokenctl bootstrap-kubeconfig --server https://10.0.0.1:6443 \
//	    --ca-file ca.crt --token "$TOKEN" --out bootstrap.kubeconfig
//	go run ./examples/tokenctl csr list
//
// The commands live in internal/tokenctl; this is only the process around them.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/tlsbootstrap/tlsbootstrap/internal/tokenctl"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := tokenctl.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
