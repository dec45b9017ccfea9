// Command storm measures a join storm (and with --renew a renewal wave): --nodes simulated
// kubelets, --concurrency at a time, each with a new ECDSA key submitting a kubelet client
// CSR with one real bootstrap token (group system:bootstrappers:kubeadm:default-node-token,
// the kubeadm RBAC preset) and waiting for its certificate through the csr package.
//
// Rows (each on a fresh embedded control plane: a real kube-apiserver v1.37.2 and etcd):
//
//   - oracle: the CSR flow's ceiling, a controller process (this binary re-executed) that
//     knows every certificate in advance (signed before the clock starts) and only writes
//     the approval and the certificate;
//   - tlsbootstrap: controller.Run with its default Options (plus the node certificate
//     record), run as a child process (this binary re-executed) so that its CPU time and
//     peak RSS come from /proc alone, with a client at csr-controller's default QPS and
//     burst; with --restart, a fresh controller is then started with every CSR in the
//     cluster (the "restart" row: its time to ready, CPU and peak RSS);
//   - kcm: the real kube-controller-manager v1.37.2, --controllers=csrapproving,csrsigning,
//     its defaults (client QPS 20), or tuned with --kcm-args;
//   - configmap writes: the API server's raw write throughput for the same N and
//     concurrency (create a ConfigMap and update it twice per simulated node). It leaves
//     out what a CSR costs the API server, so it is shown, not used as the ceiling.
//
// Every row submits the same keys and CSRs, made before any clock starts. Each
// controller's requests are its own rest_client_requests_total (kube-controller-manager's
// read from its secure port). --compare runs the oracle, tlsbootstrap, kcm (defaults), kcm
// (tuned) and the ConfigMap writes in one invocation, with the ratios to the oracle.
// Latencies are measured by a watch in this process: creation is the CSR's first sighting,
// approval the first sighting of the Approved condition, issuance that of the certificate.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
	"k8s.io/klog/v2"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
)

// Controllers under test.
const (
	controllerTLSBootstrap = "tlsbootstrap"
	controllerKCM          = "kcm"
	controllerNone         = "none"
	controllerOracle       = "oracle"
)

// defaultTunedKCMArgs raise kube-controller-manager's client rate limits for the
// "kcm tuned" row of --compare.
const defaultTunedKCMArgs = "--kube-api-qps=500 --kube-api-burst=1000"

type flags struct {
	nodes       int
	concurrency int
	controller  string
	kcmArgs     string
	compare     bool
	renew       bool
	restart     bool
	limit       bool
	jsonOut     bool
	cpuprofile  string
	memprofile  string
	ctrlQPS     float32
	ctrlBurst   int
	ctrlWorkers int
	kubeconfig  string
	caCert      string
	caKey       string
	timeout     time.Duration
	verbose     bool
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == childCommand {
		if err := runChild(os.Args[2:]); err != nil {
			fmt.Fprintf(os.Stderr, "storm controller: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == oracleCommand {
		if err := runOracle(os.Args[2:]); err != nil {
			fmt.Fprintf(os.Stderr, "storm oracle: %v\n", err)
			os.Exit(1)
		}
		return
	}
	f, err := parse(os.Args[1:])
	if errors.Is(err, pflag.ErrHelp) {
		return
	}
	if err == nil {
		err = run(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "storm: %v\n", err)
		os.Exit(1)
	}
}

func parse(args []string) (*flags, error) {
	f := &flags{}
	fs := pflag.NewFlagSet("storm", pflag.ContinueOnError)
	fs.IntVar(&f.nodes, "nodes", 100, "simulated nodes joining at once")
	fs.IntVar(&f.concurrency, "concurrency", 200, "nodes bootstrapping at the same time (and writers in the limit row)")
	fs.StringVar(&f.controller, "controller", controllerTLSBootstrap, "controller under test: tlsbootstrap, kcm, oracle (the CSR-flow limit), or none (one already running, with --kubeconfig)")
	fs.StringVar(&f.kcmArgs, "kcm-args", "", "extra kube-controller-manager flags, space separated (with --compare: the tuned row's, default \""+defaultTunedKCMArgs+"\")")
	fs.BoolVar(&f.compare, "compare", false, "run the oracle, tlsbootstrap, kcm (defaults), kcm (tuned) and the ConfigMap-writes row, each on a fresh control plane")
	fs.BoolVar(&f.renew, "renew", false, "after the join, every node renews with its own certificate (selfnodeclient) and that wave is reported too")
	fs.BoolVar(&f.restart, "restart", false, "at the end, restart the tlsbootstrap controller with every CSR in the cluster and report its start (time to ready, CPU, peak RSS)")
	fs.BoolVar(&f.limit, "limit", true, "also measure the API server's raw write throughput (the ConfigMap-writes row: create + 2 updates per node)")
	fs.BoolVar(&f.jsonOut, "json", false, "print JSON instead of the table")
	fs.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile (pprof) of the tlsbootstrap controller to this file")
	fs.StringVar(&f.memprofile, "memprofile", "", "write a heap profile (pprof) of the tlsbootstrap controller to this file when it stops")
	fs.Float32Var(&f.ctrlQPS, "controller-qps", childQPS, "client QPS of the tlsbootstrap controller (csr-controller's --kube-api-qps default)")
	fs.IntVar(&f.ctrlBurst, "controller-burst", childBurst, "client burst of the tlsbootstrap controller (csr-controller's --kube-api-burst default)")
	fs.IntVar(&f.ctrlWorkers, "controller-workers", controller.DefaultOptions().Workers, "workers per controller of the tlsbootstrap controller (csr-controller's --workers default)")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "admin kubeconfig of an existing cluster instead of the embedded control plane")
	fs.StringVar(&f.caCert, "ca-cert", "", "with --kubeconfig: the cluster CA certificate the tlsbootstrap controller signs with")
	fs.StringVar(&f.caKey, "ca-key", "", "with --kubeconfig: the key of --ca-cert")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Minute, "bound on the whole run")
	fs.BoolVar(&f.verbose, "verbose", false, "show the control plane's and controllers' logs")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if f.nodes < 1 {
		return nil, fmt.Errorf("--nodes must be at least 1, got %d", f.nodes)
	}
	if f.concurrency < 1 {
		return nil, fmt.Errorf("--concurrency must be at least 1, got %d", f.concurrency)
	}
	switch f.controller {
	case controllerTLSBootstrap, controllerKCM, controllerOracle, controllerNone:
	default:
		return nil, fmt.Errorf("--controller %q: want tlsbootstrap, kcm, oracle or none", f.controller)
	}
	if f.kubeconfig != "" {
		if f.compare || f.controller == controllerKCM || f.controller == controllerOracle {
			return nil, errors.New("--compare and --controller kcm need fresh embedded control planes: drop --kubeconfig")
		}
		if f.controller == controllerTLSBootstrap && (f.caCert == "" || f.caKey == "") {
			return nil, errors.New("--kubeconfig with --controller tlsbootstrap needs --ca-cert and --ca-key (the CA the API server trusts)")
		}
	} else if f.controller == controllerNone {
		return nil, errors.New("--controller none needs --kubeconfig (a cluster whose controller is already running)")
	}
	return f, nil
}

// plans lists the rows the flags ask for, in the order they run.
func (f *flags) plans() []plan {
	if !f.compare {
		p := plan{controller: f.controller, label: f.controller, kcmArgs: strings.Fields(f.kcmArgs)}
		if f.controller == controllerKCM && f.kcmArgs != "" {
			p.label = "kcm tuned"
		} else if f.controller == controllerKCM {
			p.label = "kcm default"
		}
		return []plan{p}
	}
	tuned := f.kcmArgs
	if tuned == "" {
		tuned = defaultTunedKCMArgs
	}
	return []plan{
		{controller: controllerOracle, label: controllerOracle},
		{controller: controllerTLSBootstrap, label: "tlsbootstrap"},
		{controller: controllerKCM, label: "kcm default"},
		{controller: controllerKCM, label: "kcm tuned", kcmArgs: strings.Fields(tuned)},
	}
}

func run(f *flags) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	if !f.verbose {
		quietLogs()
	}
	rep := &report{Nodes: f.nodes, Concurrency: f.concurrency, ControllerQPS: f.ctrlQPS, ControllerBurst: f.ctrlBurst, Started: time.Now().UTC()}
	progress := func(format string, args ...any) {
		if !f.jsonOut {
			fmt.Fprintf(os.Stderr, "==> "+format+"\n", args...)
		}
	}
	if f.limit {
		progress("%s: %d × (create + 2 updates) of a ConfigMap, %d at a time", rowConfigMapWrites, f.nodes, f.concurrency)
		row, err := measureLimit(ctx, f)
		if err != nil {
			return fmt.Errorf("%s row: %w", rowConfigMapWrites, err)
		}
		rep.Rows = append(rep.Rows, row)
	}
	// Every row submits the same requests, keys and CSRs made here, before any clock.
	progress("preparing %d nodes' keys and requests (join and renewal)", f.nodes)
	nodes, err := newNodes(f.nodes)
	if err != nil {
		return err
	}
	warm := &simNode{name: "storm-warmup"}
	if warm.join, err = prepareRequest(warm.name); err != nil {
		return err
	}
	for _, p := range f.plans() {
		progress("%s: %d nodes, %d at a time%s", p.label, f.nodes, f.concurrency, map[bool]string{true: ", then a renewal wave"}[f.renew])
		rows, err := runPlan(ctx, f, p, nodes, warm)
		if err != nil {
			return fmt.Errorf("%s row: %w", p.label, err)
		}
		rep.Rows = append(rep.Rows, rows...)
	}
	rep.computeRatios()
	if f.jsonOut {
		return rep.writeJSON(os.Stdout)
	}
	rep.writeTable(os.Stdout)
	return nil
}

// quietLogs keeps client-go's and the library's klog lines out of the report.
func quietLogs() {
	klog.SetOutput(discard{})
	klog.LogToStderr(false)
	ctrllog.SetLogger(logr.Discard()) // envtest's, else it warns on stderr
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
