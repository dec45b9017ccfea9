package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/internal/clientmetrics"
	"github.com/tlsbootstrap/tlsbootstrap/internal/controllerflags"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

// childCommand re-executes this binary as the tlsbootstrap controller under test, so that
// /proc reports the controller's CPU time and peak RSS without the simulated nodes'.
const childCommand = "__controller"

// childQPS and childBurst are csr-controller's defaults (--kube-api-qps, --kube-api-burst).
const (
	childQPS   = controllerflags.DefaultQPS
	childBurst = controllerflags.DefaultBurst
)

func runChild(args []string) error {
	fs := pflag.NewFlagSet(childCommand, pflag.ContinueOnError)
	var pf processFlags
	pf.register(fs)
	caCert := fs.String("ca-cert", "", "signing CA certificate")
	caKey := fs.String("ca-key", "", "signing CA key")
	cpuprofile := fs.String("cpuprofile", "", "CPU profile file")
	memprofile := fs.String("memprofile", "", "heap profile file, written when the controller stops")
	if err := fs.Parse(args); err != nil {
		return err
	}
	client, reg, err := pf.countedClient()
	if err != nil {
		return err
	}
	if *cpuprofile != "" {
		out, err := os.Create(*cpuprofile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer out.Close()
		if err := pprof.StartCPUProfile(out); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	// The stop signal cancels the controller; with --memprofile the heap is profiled first,
	// while the informer still holds every CSR.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	go func() {
		select {
		case <-signals:
		case <-ctx.Done():
			return
		}
		if *memprofile != "" {
			if err := writeHeapProfile(*memprofile); err != nil {
				fmt.Fprintln(os.Stderr, "storm child:", err)
			}
		}
		cancel()
	}()
	ca, err := sign.LoadCA(*caCert, *caKey)
	if err != nil {
		return err
	}
	err = controller.Run(ctx, client, controller.Options{
		ClusterSigningCA:   ca,
		MetricsBindAddress: pf.metricsAddr,
		Workers:            pf.workers,
		Registry:           reg,
	})
	signalled := ctx.Err() != nil
	if signalled && (err == nil || errors.Is(err, context.Canceled)) {
		return nil
	}
	return err
}

// processFlags are the flags startSelf gives both controller processes (the tlsbootstrap
// child and the oracle).
type processFlags struct {
	kubeconfig, metricsAddr string
	qps                     float32
	burst, workers          int
}

func (p *processFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&p.kubeconfig, "kubeconfig", "", "admin kubeconfig")
	fs.StringVar(&p.metricsAddr, "metrics-bind-address", "", "serves /metrics (with the request counts) and /readyz")
	fs.Float32Var(&p.qps, "kube-api-qps", childQPS, "client QPS")
	fs.IntVar(&p.burst, "kube-api-burst", childBurst, "client burst")
	fs.IntVar(&p.workers, "workers", controller.DefaultOptions().Workers, "workers per controller (the oracle's writers)")
}

// countedClient is a controller process's client, as csr-controller builds it, with its
// requests counted in the returned registry as kube-controller-manager counts its own.
func (p *processFlags) countedClient() (kubernetes.Interface, *prometheus.Registry, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", p.kubeconfig)
	if err != nil {
		return nil, nil, fmt.Errorf("loading kubeconfig %s: %w", p.kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = p.qps, p.burst
	cfg = controllerflags.RESTConfig(cfg)
	reg := prometheus.NewRegistry()
	if err := clientmetrics.Count(cfg, reg); err != nil {
		return nil, nil, err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	return client, reg, nil
}

// writeHeapProfile writes the live heap (after a collection) to path.
func writeHeapProfile(path string) error {
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	defer out.Close()
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(out, 0); err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	return nil
}
