// Command quickstart runs the whole TLS bootstrap flow on an embedded control plane (a real
// kube-apiserver and etcd), printing each step:
//
//  1. a cluster CA (new, or --ca-cert/--ca-key) and the project's approver and signer;
//  2. a bootstrap token (TTL 1h), the kubeadm RBAC preset, a bootstrap kubeconfig per node;
//  3. --nodes nodes bootstrapping concurrently, each with its own cert-dir under --out;
//  4. each node's kubeconfig proven to authenticate as system:node:<name>;
//  5. with --rotate, each node renewing its client certificate once through a
//     selfnodeclient CSR (certificates signed for 10m, the first deadline brought forward);
//  6. tables of the CSRs and the nodes' certificates, and the total time.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/klog/v2"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
)

type flags struct {
	nodes         int
	out           string
	caCert, caKey string
	timeout       time.Duration
	verbose       bool
	rotate        bool
}

func main() {
	f, err := parse(os.Args[1:])
	if err == nil {
		err = run(f)
	}
	if err != nil && !errors.Is(err, pflag.ErrHelp) {
		fmt.Fprintf(os.Stderr, "quickstart: %v\n", err)
		os.Exit(1)
	}
}

func parse(args []string) (*flags, error) {
	f := &flags{}
	fs := pflag.NewFlagSet("quickstart", pflag.ContinueOnError)
	fs.IntVar(&f.nodes, "nodes", 3, "how many nodes bootstrap concurrently")
	fs.StringVar(&f.out, "out", "", "folder for the nodes' kubeconfigs and cert-dirs (default: a new temporary folder, printed)")
	fs.StringVar(&f.caCert, "ca-cert", "", "PEM cluster CA certificate to use instead of a new one (with --ca-key)")
	fs.StringVar(&f.caKey, "ca-key", "", "PEM private key of --ca-cert")
	fs.DurationVar(&f.timeout, "timeout", 2*time.Minute, "bound on the whole run")
	fs.BoolVar(&f.verbose, "verbose", false, "show the components' logs")
	fs.BoolVar(&f.rotate, "rotate", false, "sign for 10m and show each node renewing its client certificate once")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if f.nodes < 1 {
		return nil, fmt.Errorf("--nodes must be at least 1, got %d", f.nodes)
	}
	if (f.caCert == "") != (f.caKey == "") {
		return nil, errors.New("--ca-cert and --ca-key go together")
	}
	return f, nil
}

func run(f *flags) error {
	start := time.Now()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	if !f.verbose {
		quietLogs()
	}

	out := f.out
	if out == "" {
		dir, err := os.MkdirTemp("", "tlsbootstrap-quickstart-")
		if err != nil {
			return err
		}
		out = dir
	}
	out, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o700); err != nil {
		return err
	}

	ca, err := clusterCA(f)
	if err != nil {
		return err
	}
	step("starting control plane (kube-apiserver %s + etcd)", controlplane.KubernetesVersion)
	cp, err := controlplane.Start(controlplane.Options{CA: ca})
	if err != nil {
		return err
	}
	defer cp.Stop()
	done("control plane at %s", cp.Host())

	d := &demo{cp: cp, out: out, start: start, rotate: f.rotate}
	if err := d.run(ctx, f.nodes); err != nil {
		return err
	}
	fmt.Printf("\nnode files are in %s\n", out)
	fmt.Printf("total time %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}

func step(format string, args ...any) { fmt.Printf("==> "+format+"\n", args...) }
func done(format string, args ...any) { fmt.Printf("    "+format+"\n", args...) }

// quietLogs keeps the library's klog lines out of the demo's output.
func quietLogs() {
	klog.SetOutput(discard{})
	klog.LogToStderr(false)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
