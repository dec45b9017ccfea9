package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/node"
)

// nodeAgentSubcommand makes this program act as the project's node agent, so the default
// node command needs no second binary.
const nodeAgentSubcommand = "node-agent"

// startOwnController runs the project's controller (approve, serving approval, sign,
// clean) in-process until the returned stop is called.
func startOwnController(ctx context.Context, client kubernetes.Interface, caCert, caKey string, signingDuration time.Duration) func() {
	fmt.Fprintln(os.Stderr, "running the project's controller in-process")
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- controller.Run(ctx, client, controller.Options{
			Controllers:      []string{controller.CSRApproving, controller.ServingApproving, controller.CSRSigning, controller.CSRCleaner},
			ClusterSigningCA: controller.CAFiles{CertFile: caCert, KeyFile: caKey},
			SigningDuration:  signingDuration,
			Logger:           logr.Discard(),
		})
	}()
	return func() {
		cancel()
		if err := <-done; err != nil {
			fmt.Fprintf(os.Stderr, "controller: %v\n", err)
		}
	}
}

// runNodeAgent bootstraps one node with node.Bootstrap and exits, as
// examples/node-agent --once does, with the kubelet's flag names.
func runNodeAgent(args []string) error {
	var opts node.Options
	var timeout time.Duration
	fs := pflag.NewFlagSet(nodeAgentSubcommand, pflag.ContinueOnError)
	fs.StringVar(&opts.BootstrapKubeconfig, "bootstrap-kubeconfig", "", "bootstrap kubeconfig")
	fs.StringVar(&opts.Kubeconfig, "kubeconfig", "", "kubeconfig to write")
	fs.StringVar(&opts.CertDir, "cert-dir", "", "certificate folder")
	fs.StringVar(&opts.NodeName, "node-name", "", "node name")
	fs.DurationVar(&timeout, "timeout", 2*time.Minute, "bound on the bootstrap")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if opts.BootstrapKubeconfig == "" || opts.Kubeconfig == "" || opts.CertDir == "" || opts.NodeName == "" {
		return errors.New("--bootstrap-kubeconfig, --kubeconfig, --cert-dir and --node-name are required")
	}
	opts.Logger = logr.Discard()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_, err := node.Bootstrap(ctx, opts)
	return err
}
