package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/internal/controllerflags"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

// childCommand re-executes this binary as the tlsbootstrap controller under test, so that
// /proc reports the controller's CPU time and peak RSS without the simulated nodes'.
const childCommand = "__controller"

// requestsMetric counts the controller's API requests by verb and resource.
const requestsMetric = "storm_controller_requests_total"

// childQPS and childBurst are csr-controller's defaults (--kube-api-qps, --kube-api-burst).
const (
	childQPS   = controllerflags.DefaultQPS
	childBurst = controllerflags.DefaultBurst
)

func runChild(args []string) error {
	fs := pflag.NewFlagSet(childCommand, pflag.ContinueOnError)
	kubeconfig := fs.String("kubeconfig", "", "admin kubeconfig")
	caCert := fs.String("ca-cert", "", "signing CA certificate")
	caKey := fs.String("ca-key", "", "signing CA key")
	metricsAddr := fs.String("metrics-bind-address", "", "serves /metrics (with the request counts) and /readyz")
	cpuprofile := fs.String("cpuprofile", "", "CPU profile file")
	memprofile := fs.String("memprofile", "", "heap profile file, written when the controller stops")
	qps := fs.Float32("kube-api-qps", childQPS, "client QPS")
	burst := fs.Int("kube-api-burst", childBurst, "client burst")
	workers := fs.Int("workers", controller.DefaultOptions().Workers, "workers per controller")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		return fmt.Errorf("loading kubeconfig %s: %w", *kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = *qps, *burst
	cfg = controllerflags.RESTConfig(cfg)
	reg := prometheus.NewRegistry()
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: requestsMetric, Help: "API requests of the controller under test by verb and resource.",
	}, []string{"request"})
	reg.MustRegister(requests)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			resp, err := rt.RoundTrip(req)
			label := describeRequest(req)
			switch {
			case err != nil:
				label += " (error)"
			case resp.StatusCode >= 300:
				label += " (" + strconv.Itoa(resp.StatusCode) + ")"
			}
			requests.WithLabelValues(label).Inc()
			return resp, err
		})
	}
	client, err := kubernetes.NewForConfig(cfg)
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
		MetricsBindAddress: *metricsAddr,
		Workers:            *workers,
		Registry:           reg,
	})
	signalled := ctx.Err() != nil
	if signalled && (err == nil || errors.Is(err, context.Canceled)) {
		return nil
	}
	return err
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

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// describeRequest names a request as "<verb> <resource>[/<subresource>]", the verb as the
// API server's audit log names it.
func describeRequest(r *http.Request) string {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	// /api/v1/... or /apis/<group>/<version>/...
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		parts = parts[3:]
	default:
		return strings.ToLower(r.Method) + " " + r.URL.Path
	}
	if len(parts) >= 2 && parts[0] == "namespaces" && len(parts) > 2 {
		parts = parts[2:]
	}
	resource, named := "?", false
	if len(parts) > 0 {
		resource = parts[0]
	}
	if len(parts) > 1 {
		named = true
	}
	if len(parts) > 2 {
		resource += "/" + parts[2]
	}
	verb := strings.ToLower(r.Method)
	switch r.Method {
	case http.MethodGet:
		switch {
		case r.URL.Query().Get("watch") == "true" || r.URL.Query().Get("watch") == "1":
			verb = "watch"
		case named:
			verb = "get"
		default:
			verb = "list"
		}
	case http.MethodPost:
		verb = "create"
	case http.MethodPut:
		verb = "update"
	}
	return verb + " " + resource
}
