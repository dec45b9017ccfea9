// Command conformance runs the tlsbootstrap conformance suite against an implementation of
// kubelet TLS bootstrapping and prints a table of cases; it exits 0 only when every core
// case of the chosen profiles passed.
//
// By default it starts an embedded control plane (kube-apiserver + etcd), sets it up the
// way kubeadm does, runs the project's own controller in-process and its node agent:
//
//	go run ./examples/conformance
//
// The serving profile alone, which rates any approver of kubelet serving certificates:
//
//	go run ./examples/conformance --profiles serving
//
// Against Kubernetes' own kube-controller-manager (named from the command, so serving
// approval, which it lacks, is reported NOT_SUPPORTED without being declared):
//
//	go run ./examples/conformance --profiles approver,serving,signer \
//	    --controller-command "bin/k8s/1.37.2/kube-controller-manager --kubeconfig={kubeconfig} \
//	      --controllers=csrapproving,csrsigning,csrcleaner --leader-elect=false --secure-port=0 \
//	      --cluster-signing-cert-file={ca-cert} --cluster-signing-key-file={ca-key}"
//
// The package does the work (conformance.Run, with the controller started through
// conformance.Options.Provision); this program is its flags and reports.
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

	"github.com/spf13/pflag"

	"github.com/tlsbootstrap/tlsbootstrap/conformance"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == nodeAgentSubcommand {
		if err := runNodeAgent(os.Args[2:]); err != nil {
			fmt.Fprintf(os.Stderr, "conformance node-agent: %s\n", strings.Join(strings.Fields(err.Error()), " "))
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	passed, err := run(ctx, os.Args[1:])
	stop()
	if errors.Is(err, pflag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "conformance: %s\n", strings.Join(strings.Fields(err.Error()), " "))
		os.Exit(2)
	}
	if !passed {
		os.Exit(1)
	}
}

// flags are the command line.
type flags struct {
	kubeconfig          string
	profiles            []string
	implementation      []string
	unsupportedFeatures []string
	controllerCommand   string
	nodeCommand         string
	nodeRotateCommand   string
	reportDir           string
	caCert, caKey       string
	bootstrapGroup      string
	signingDuration     time.Duration
	caseTimeout         time.Duration
	observationWindow   time.Duration
	cleanerInterval     time.Duration
	focus               []string
}

func parse(args []string) (*flags, error) {
	f := &flags{}
	fs := pflag.NewFlagSet("conformance", pflag.ContinueOnError)
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "admin kubeconfig of the cluster under test (default: start an embedded control plane)")
	fs.StringSliceVar(&f.profiles, "profiles", nil, fmt.Sprintf("profiles to run (default all: %v)", conformance.Profiles()))
	fs.StringSliceVar(&f.implementation, "implementation", nil, "name,version of the implementation under test (default: tlsbootstrap,dev with the built-in controller; the --controller-command program and its --version)")
	fs.StringSliceVar(&f.unsupportedFeatures, "unsupported-features", nil, fmt.Sprintf("features the implementation lacks, reported NOT_SUPPORTED (known: %v)", conformance.Features()))
	fs.StringVar(&f.controllerCommand, "controller-command", "", "command starting the approver/signer under test, with placeholders {kubeconfig} {ca-cert} {ca-key} {signing-duration} {cleaner-interval} {allowed-ip-prefixes} {audited-ip-prefixes}; its program's name and --version name the implementation unless --implementation does; \"none\" when the cluster already runs one (default: the project's controller, in-process)")
	fs.StringVar(&f.nodeCommand, "node-command", "", "command bootstrapping one node, with placeholders {bootstrap-kubeconfig} {kubeconfig} {cert-dir} {node-name} (default: the project's node agent)")
	fs.StringVar(&f.nodeRotateCommand, "node-rotate-command", "", "command running one node that stays up and renews its client certificate within seconds, same placeholders as --node-command; stopped with SIGINT (default: the project's node agent with --renew-after=3s)")
	fs.StringVar(&f.reportDir, "report-dir", "conformance-report", "folder for report.json, report.yaml and junit.xml (empty: none)")
	fs.StringVar(&f.caCert, "ca-cert", "", "CA certificate the signer under test signs with (default: the embedded control plane's cluster CA)")
	fs.StringVar(&f.caKey, "ca-key", "", "key of --ca-cert, for the built-in controller or {ca-key} on a --kubeconfig cluster")
	fs.StringVar(&f.bootstrapGroup, "bootstrap-group", token.KubeadmDefaultGroup, "group of the cluster's join tokens, whose rights cluster-setup checks")
	fs.DurationVar(&f.signingDuration, "signing-duration", conformance.DefaultOptions().SigningDuration, "longest certificate lifetime the signer under test is configured with ({signing-duration})")
	fs.DurationVar(&f.caseTimeout, "case-timeout", conformance.DefaultOptions().CaseTimeout, "bound on each case")
	fs.DurationVar(&f.observationWindow, "observation-window", conformance.DefaultOptions().ObservationWindow, "how long a case watches for something that must not happen")
	fs.DurationVar(&f.cleanerInterval, "cleaner-interval", 0, fmt.Sprintf("how often the CSR cleaner under test makes a pass, bounding cleaner/retention's wait (default: %s for the built-in controller, which the runner configures so; else %s, which skips the case)", ownCleanerInterval, conformance.DefaultOptions().CleanerInterval))
	fs.StringSliceVar(&f.focus, "focus", nil, "run only cases whose profile/name contains one of these")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if len(f.implementation) != 0 && len(f.implementation) != 2 {
		return nil, errors.New("--implementation takes name,version")
	}
	return f, nil
}

func (f *flags) config() (conformance.Options, error) {
	cfg := conformance.Options{
		Kubeconfig:        f.kubeconfig,
		BootstrapGroup:    f.bootstrapGroup,
		SigningDuration:   f.signingDuration,
		CaseTimeout:       f.caseTimeout,
		ObservationWindow: f.observationWindow,
		CleanerInterval:   f.cleanerInterval,
		Focus:             f.focus,
	}
	for _, p := range f.profiles {
		cfg.Profiles = append(cfg.Profiles, conformance.Profile(p))
	}
	for _, feat := range f.unsupportedFeatures {
		cfg.UnsupportedFeatures = append(cfg.UnsupportedFeatures, conformance.Feature(feat))
	}
	switch {
	case len(f.implementation) == 2:
		cfg.Implementation = conformance.Implementation{Name: f.implementation[0], Version: f.implementation[1]}
	case f.controllerCommand == "":
		cfg.Implementation = conformance.Implementation{Name: "tlsbootstrap", Version: "dev"}
	}
	if f.caCert != "" {
		data, err := os.ReadFile(f.caCert)
		if err != nil {
			return cfg, fmt.Errorf("--ca-cert: %w", err)
		}
		cfg.CACertPEM = data
	}
	return cfg, nil
}
