package main

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/conformance"
	"github.com/tlsbootstrap/tlsbootstrap/examples/controllerconformance"
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

	if err := provision(f, &cfg, placeholders); err != nil {
		return false, err
	}
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

// provision says how the approver/signer under test starts, in cfg.Provision: a command
// template, nothing ("none", or no CA key on a --kubeconfig cluster), or the project's
// controller in-process, whose cleaner interval it records in cfg.
func provision(f *flags, cfg *conformance.Options, placeholders map[string]string) error {
	switch {
	case f.controllerCommand == "none":
		return nil
	case f.controllerCommand != "":
		argv := strings.Fields(f.controllerCommand)
		if cfg.Implementation.Name == "" {
			cfg.Implementation = implementationOf(argv[0])
		}
		cfg.Provision = commandProvision(argv, placeholders)
		return nil
	case placeholders["{ca-key}"] == "":
		fmt.Fprintln(os.Stderr, "no --ca-key: assuming the cluster runs its own approver and signer")
		return nil
	}
	if cfg.CleanerInterval == 0 {
		cfg.CleanerInterval = ownCleanerInterval
	}
	ca, err := sign.LoadCA(placeholders["{ca-cert}"], placeholders["{ca-key}"])
	if err != nil {
		return fmt.Errorf("signing CA: %w", err)
	}
	fmt.Fprintln(os.Stderr, "running the project's controller in-process")
	cfg.Provision = controllerconformance.Provision(ca)
	return nil
}

// ownCleanerInterval is how often the in-process controller's CSR cleaner runs by
// default: short, so cleaner/retention sees a pass within its bounded wait.
const ownCleanerInterval = 2 * time.Second

// commandProvision starts argv, its placeholders expanded, when the suite asks, with its
// output in a log file, and stops it with SIGTERM.
func commandProvision(argv []string, placeholders map[string]string) conformance.ProvisionFunc {
	return func(ctx context.Context, env conformance.Environment) (func(context.Context) error, error) {
		values := maps.Clone(placeholders)
		values["{allowed-ip-prefixes}"] = joinPrefixes(env.ServingAllowedIPPrefixes)
		values["{audited-ip-prefixes}"] = joinPrefixes(env.ServingAuditedIPPrefixes)
		values["{cleaner-interval}"] = env.CleanerInterval.String()
		argv := expand(argv, values)
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
		return func(context.Context) error {
			err := p.Stop()
			_ = logs.Close()
			return err
		}, nil
	}
}

// implementationOf names the implementation a controller command runs: its program's
// name, and the version its --version prints (kube-controller-manager: "Kubernetes
// v1.37.2"), so the report names it and the suite knows what it lacks.
func implementationOf(bin string) conformance.Implementation {
	impl := conformance.Implementation{Name: filepath.Base(bin), Version: "unknown"}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").Output()
	if fields := strings.Fields(string(out)); err == nil && len(fields) > 0 {
		impl.Version = strings.TrimPrefix(fields[len(fields)-1], "v")
	}
	return impl
}

func joinPrefixes(prefixes []netip.Prefix) string {
	s := make([]string, len(prefixes))
	for i, p := range prefixes {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
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
