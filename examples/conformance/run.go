package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tlsbootstrap/tlsbootstrap/conformance"
	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/rbac"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

// run sets up the cluster, the controller and the node command, runs the suite and
// prints the table; it reports whether every core case passed.
func run(ctx context.Context, args []string) (bool, error) {
	f, err := parse(args)
	if err != nil {
		return false, err
	}
	cfg, err := f.config()
	if err != nil {
		return false, err
	}
	placeholders := map[string]string{
		"{kubeconfig}": f.kubeconfig, "{ca-cert}": f.caCert, "{ca-key}": f.caKey,
		"{signing-duration}": f.signingDuration.String(),
	}

	if f.kubeconfig == "" {
		fmt.Fprintf(os.Stderr, "starting an embedded control plane (kube-apiserver %s + etcd)\n", controlplane.KubernetesVersion)
		cp, err := controlplane.Start(controlplane.Options{})
		if err != nil {
			return false, err
		}
		defer func() { _ = cp.Stop() }()
		// The project's cluster set-up: the RBAC kubeadm init writes for joining nodes.
		if err := rbac.Apply(ctx, cp.Client(), rbac.KubeadmPreset(f.bootstrapGroup)); err != nil {
			return false, fmt.Errorf("applying the kubeadm RBAC preset: %w", err)
		}
		cfg.RESTConfig = cp.Config
		if cfg.CACertPEM == nil {
			cfg.CACertPEM = cp.CA.CertPEM
		}
		placeholders["{kubeconfig}"] = cp.KubeconfigFile
		if f.caCert == "" {
			placeholders["{ca-cert}"], placeholders["{ca-key}"] = cp.CACertFile, cp.CAKeyFile
		}
	}

	stopController, err := startController(ctx, f, &cfg, placeholders)
	if err != nil {
		return false, err
	}
	defer stopController()

	if cfg.NodeCommand, err = nodeCommand(f.nodeCommand, "--once"); err != nil {
		return false, err
	}
	if cfg.NodeRotateCommand, err = nodeCommand(f.nodeRotateCommand, "--renew-after=3s"); err != nil {
		return false, err
	}
	cfg.Progress = func(r conformance.CaseResult) {
		fmt.Fprintf(os.Stderr, "  %-13s %s (%s)\n", r.Result, r.FullName(), r.Duration.Round(1e7))
	}
	report, err := conformance.Run(ctx, cfg)
	if err != nil {
		return false, err
	}
	fmt.Println()
	if err := report.WriteTable(os.Stdout); err != nil {
		return false, err
	}
	if f.reportDir != "" {
		if err := report.WriteFiles(f.reportDir); err != nil {
			return false, err
		}
		fmt.Printf("reports written to %s (report.json, report.yaml, junit.xml)\n", f.reportDir)
	}
	return report.CorePassed(), nil
}

// startController starts the approver/signer under test: a command template, nothing
// ("none"), or the project's controller in-process (when a CA key is known), whose
// cleaner interval it records in cfg.
func startController(ctx context.Context, f *flags, cfg *conformance.Options, placeholders map[string]string) (func(), error) {
	switch {
	case f.controllerCommand == "none":
		return func() {}, nil
	case f.controllerCommand != "":
		argv := expand(strings.Fields(f.controllerCommand), placeholders)
		fmt.Fprintf(os.Stderr, "starting the controller under test: %s\n", strings.Join(argv, " "))
		logs, err := os.CreateTemp("", "conformance-controller-*.log")
		if err != nil {
			return nil, err
		}
		p, err := controlplane.StartProcess(ctx, argv[0], argv[1:], logs)
		if err != nil {
			_ = logs.Close()
			return nil, fmt.Errorf("starting --controller-command: %w", err)
		}
		fmt.Fprintf(os.Stderr, "controller logs: %s\n", logs.Name())
		return func() { _ = p.Stop(); _ = logs.Close() }, nil
	case placeholders["{ca-key}"] == "":
		fmt.Fprintln(os.Stderr, "no --ca-key: assuming the cluster runs its own approver and signer")
		return func() {}, nil
	}
	restConfig := cfg.RESTConfig
	if restConfig == nil {
		var err error
		if restConfig, err = clientcmd.BuildConfigFromFlags("", f.kubeconfig); err != nil {
			return nil, fmt.Errorf("loading --kubeconfig: %w", err)
		}
	}
	client, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return nil, err
	}
	if cfg.CleanerInterval == 0 {
		cfg.CleanerInterval = ownCleanerInterval
	}
	ca, err := sign.LoadCA(placeholders["{ca-cert}"], placeholders["{ca-key}"])
	if err != nil {
		return nil, fmt.Errorf("signing CA: %w", err)
	}
	return startOwnController(ctx, client, ca, f.signingDuration, cfg.CleanerInterval), nil
}

// nodeCommand is a node command flag split into argv or, when empty, this program's own
// node agent with mode (--once, or --renew-after for a rotating node).
func nodeCommand(flag, mode string) ([]string, error) {
	if flag != "" {
		return strings.Fields(flag), nil
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding this program for the default node command: %w", err)
	}
	return []string{self, nodeAgentSubcommand, mode,
		"--bootstrap-kubeconfig=" + "{bootstrap-kubeconfig}",
		"--kubeconfig=" + "{kubeconfig}",
		"--cert-dir=" + "{cert-dir}",
		"--node-name=" + "{node-name}"}, nil
}

func expand(argv []string, placeholders map[string]string) []string {
	var pairs []string
	for k, v := range placeholders {
		pairs = append(pairs, k, v)
	}
	r := strings.NewReplacer(pairs...)
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = r.Replace(a)
	}
	return out
}
