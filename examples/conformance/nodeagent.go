package main

import (
	"context"
	"crypto/x509"
	"errors"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"

	"github.com/tlsbootstrap/tlsbootstrap/node"
)

// nodeAgentSubcommand makes this program act as the project's node agent, so the default
// node commands need no second binary.
const nodeAgentSubcommand = "node-agent"

// runNodeAgent bootstraps one node with node.Bootstrap, as examples/node-agent does with
// the kubelet's flag names: with --once it then exits, otherwise node.Run keeps renewing
// the client certificate until interrupted.
func runNodeAgent(args []string) error {
	var opts node.Options
	var timeout, renewAfter time.Duration
	var once bool
	fs := pflag.NewFlagSet(nodeAgentSubcommand, pflag.ContinueOnError)
	fs.StringVar(&opts.BootstrapKubeconfig, "bootstrap-kubeconfig", "", "bootstrap kubeconfig")
	fs.StringVar(&opts.Kubeconfig, "kubeconfig", "", "kubeconfig to write")
	fs.StringVar(&opts.CertDir, "cert-dir", "", "certificate folder")
	fs.StringVar(&opts.NodeName, "node-name", "", "node name")
	fs.DurationVar(&timeout, "timeout", 2*time.Minute, "bound on the bootstrap")
	fs.BoolVar(&once, "once", false, "exit once the kubeconfig is valid instead of renewing the client certificate until interrupted")
	fs.DurationVar(&renewAfter, "renew-after", 0, "renew each client certificate this long after it is loaded instead of at 70-90% of its lifetime")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if opts.BootstrapKubeconfig == "" || opts.Kubeconfig == "" || opts.CertDir == "" || opts.NodeName == "" {
		return errors.New("--bootstrap-kubeconfig, --kubeconfig, --cert-dir and --node-name are required")
	}
	ctx, stop := signal.NotifyContext(logr.NewContext(context.Background(), logr.Discard()), os.Interrupt, syscall.SIGTERM)
	defer stop()
	bootCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// The bootstrap within --timeout; then node.Run finds the kubeconfig usable and renews.
	if _, err := node.Bootstrap(bootCtx, opts); err != nil || once {
		return err
	}
	ro := node.RunOptions{Options: opts}
	if renewAfter > 0 {
		ro.Deadline = func(*x509.Certificate) time.Time { return time.Now().Add(renewAfter) }
	}
	return node.Run(ctx, ro)
}
