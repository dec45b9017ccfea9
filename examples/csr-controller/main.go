// Command csr-controller approves and signs kubelet CertificateSigningRequests, as
// kube-controller-manager's csrapproving, csrsigning and csrcleaner controllers do, with the
// same flag names; it can also approve kubelet serving certificates (servingapproving),
// clean expired bootstrap tokens (tokencleaner), sign kube-public/cluster-info for
// token discovery (bootstrapsigner) and publish its signers' CAs (trustpublisher).
//
//	go run ./examples/csr-controller --kubeconfig admin.kubeconfig \
//	    --cluster-signing-cert-file ca.crt --cluster-signing-key-file ca.key
//
// trustpublisher publishes the CA of every signer the controller has one for (the
// --cluster-signing-*-file flags, --custom-signer-config) as the ClusterTrustBundle
// linked to the signer (e.g. kubernetes.io:kubelet-serving:ca) and as a ConfigMap
// <signer with / as ->-ca.crt, key ca.crt (e.g. kubernetes.io-kubelet-serving-ca.crt), in
// the namespaces of --trust-bundle-namespaces, or in every namespace when it is empty or
// "*". After a CA rotation the old CA stays published until it expires:
//
//	go run ./examples/csr-controller --kubeconfig admin.kubeconfig \
//	    --controllers csrapproving,csrsigning,csrcleaner,trustpublisher \
//	    --cluster-signing-kubelet-serving-cert-file ca.crt --cluster-signing-kubelet-serving-key-file ca.key \
//	    --trust-bundle-namespaces monitoring,kube-system
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/tlsbootstrap/tlsbootstrap/internal/clientmetrics"

	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/internal/controllerflags"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "csr-controller: %s\n", strings.Join(strings.Fields(err.Error()), " "))
		os.Exit(1)
	}
}

type flags struct {
	kubeconfig  string
	qps         float32
	burst       int
	opts        controller.Options
	clusterCA   caFiles
	signerFiles map[string]*caFiles
	// customSignerConfig is a sign.SignerPolicyFile (YAML) of signer names of your own.
	customSignerConfig string
	serving            servingFlags
}

func parse(ctx context.Context, args []string) (*flags, error) {
	f := &flags{signerFiles: map[string]*caFiles{}}
	fs := pflag.NewFlagSet("csr-controller", pflag.ContinueOnError)
	d := controller.DefaultOptions()
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig of the controller's identity (default: in-cluster config, then $KUBECONFIG)")
	fs.Float32Var(&f.qps, "kube-api-qps", controllerflags.DefaultQPS, "client queries per second to the API server")
	fs.IntVar(&f.burst, "kube-api-burst", controllerflags.DefaultBurst, "client burst to the API server")
	fs.StringVar(&f.clusterCA.cert, "cluster-signing-cert-file", "", "PEM CA certificate that signs for every built-in signer without its own CA (reloaded when it changes)")
	fs.StringVar(&f.clusterCA.key, "cluster-signing-key-file", "", "PEM private key of --cluster-signing-cert-file")
	for infix := range controllerflags.SignerFlagNames() {
		files := &caFiles{}
		f.signerFiles[infix] = files
		fs.StringVar(&files.cert, "cluster-signing-"+infix+"-cert-file", "", "PEM CA certificate for the "+controllerflags.SignerFlagNames()[infix]+" signer")
		fs.StringVar(&files.key, "cluster-signing-"+infix+"-key-file", "", "PEM private key for the "+controllerflags.SignerFlagNames()[infix]+" signer")
	}
	fs.StringVar(&f.customSignerConfig, "custom-signer-config", "", "YAML file of custom signers (signer names of your own, each with its CA and policy; see sign.SignerPolicyFile)")
	fs.DurationVar(&f.opts.SigningDuration, "cluster-signing-duration", d.SigningDuration, "longest lifetime of issued certificates")
	fs.StringSliceVar(&f.opts.Controllers, "controllers", d.Controllers, "controllers to run: "+strings.Join(controller.KnownControllers(), ", "))
	fs.BoolVar(&f.opts.LeaderElection.Enabled, "leader-elect", false, "run the controllers only while holding the Lease (for more than one replica)")
	fs.StringVar(&f.opts.LeaderElection.Namespace, "leader-elect-resource-namespace", d.LeaderElection.Namespace, "namespace of the leader election Lease")
	fs.StringVar(&f.opts.LeaderElection.Name, "leader-elect-resource-name", d.LeaderElection.Name, "name of the leader election Lease")
	fs.DurationVar(&f.opts.LeaderElection.LeaseDuration, "leader-elect-lease-duration", d.LeaderElection.LeaseDuration, "leader election lease duration")
	fs.DurationVar(&f.opts.LeaderElection.RenewDeadline, "leader-elect-renew-deadline", d.LeaderElection.RenewDeadline, "leader election renew deadline")
	fs.DurationVar(&f.opts.LeaderElection.RetryPeriod, "leader-elect-retry-period", d.LeaderElection.RetryPeriod, "leader election retry period")
	fs.StringVar(&f.opts.MetricsBindAddress, "metrics-bind-address", "0", "address for /metrics, /healthz and /readyz (e.g. :8080); 0 disables")
	fs.IntVar(&f.opts.Workers, "workers", d.Workers, "CSRs handled at once by each controller")
	fs.Float64Var(&f.opts.EventQPS, "event-qps", d.EventQPS, "Events per second written on CSRs; beyond it (and --event-burst) Events are dropped and counted; 0: no limit")
	fs.IntVar(&f.opts.EventBurst, "event-burst", d.EventBurst, "Events written at once before --event-qps applies")
	f.opts.SARCacheTTL = new(*d.SARCacheTTL)
	fs.DurationVar(f.opts.SARCacheTTL, "sar-cache-ttl", *d.SARCacheTTL, "how long an allowed SubjectAccessReview answer is reused (the bound on a revoked binding still approving); 0: no reuse")
	fs.StringVar(&f.opts.NodeCertificateNamespace, "node-certificate-namespace", "", "namespace of the nodecertificates controller's ConfigMaps (default: --leader-elect-resource-namespace)")
	fs.DurationSliceVar(&f.opts.ExpiryHorizons, "expiry-horizons", d.ExpiryHorizons, "horizons of tlsbootstrap_node_certificates_expiring")
	f.opts.PendingWarningAfter = new(*d.PendingWarningAfter)
	fs.DurationVar(f.opts.PendingWarningAfter, "pending-warning-after", *d.PendingWarningAfter, "how long a kubelet CSR may stay pending before a Warning Event (PendingTooLong) says why; 0: never")
	fs.DurationVar(&f.opts.CleanerInterval, "csr-cleaner-interval", d.CleanerInterval, "time between two passes of csrcleaner (not a kube-controller-manager flag: it always waits 1h)")
	fs.StringSliceVar(&f.opts.TrustBundleNamespaces, "trust-bundle-namespaces", nil, "namespaces where trustpublisher keeps a ConfigMap of each signer's CA bundle; empty or * (the default): every namespace, those created later included")
	f.serving.register(fs)
	klogFlags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(klogFlags)
	fs.AddGoFlag(klogFlags.Lookup("v"))
	err := fs.Parse(args)
	if err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if f.opts.EventQPS == 0 {
		f.opts.UnlimitedEvents = true
	}
	if f.opts.ClusterSigningCA, err = f.clusterCA.provider(ctx, "cluster signing CA (--cluster-signing-cert-file, --cluster-signing-key-file)"); err != nil {
		return nil, err
	}
	for infix, files := range f.signerFiles {
		signer := controllerflags.SignerFlagNames()[infix]
		ca, err := files.provider(ctx, fmt.Sprintf("CA of signer %s (--cluster-signing-%s-cert-file, --cluster-signing-%[2]s-key-file)", signer, infix))
		if err != nil {
			return nil, err
		}
		if ca == nil {
			continue
		}
		if f.opts.SignerCAs == nil {
			f.opts.SignerCAs = map[string]sign.CAProvider{}
		}
		f.opts.SignerCAs[signer] = ca
	}
	if f.customSignerConfig != "" {
		policies, err := sign.LoadSignerPolicies(ctx, f.customSignerConfig)
		if err != nil {
			return nil, err
		}
		f.opts.CustomSigners = policies
	}
	if f.opts.ServingPolicy, err = f.serving.policy(fs); err != nil {
		return nil, err
	}
	return f, nil
}

// caFiles is a CA given as a PEM certificate and key file.
type caFiles struct{ cert, key string }

// provider is the CA of the files, reloaded when they change; nil when no file is named.
func (c caFiles) provider(ctx context.Context, what string) (sign.CAProvider, error) {
	switch {
	case c.cert == "" && c.key == "":
		return nil, nil
	case c.cert == "" || c.key == "":
		return nil, fmt.Errorf("%s: both the cert and the key file are needed", what)
	}
	ca, err := sign.NewFileCA(klog.NewContext(ctx, klog.FromContext(ctx).WithName("ca")), c.cert, c.key, sign.FileCAOptions{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return ca, nil
}

func run(ctx context.Context, args []string) error {
	f, err := parse(ctx, args)
	if err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return err
	}
	loading := clientcmd.NewDefaultClientConfigLoadingRules()
	loading.ExplicitPath = f.kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(loading, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = f.qps, f.burst
	// kube-controller-manager's request count, so the two are measured alike.
	f.opts.Registry = prometheus.NewRegistry()
	f.opts.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cfg = controllerflags.RESTConfig(cfg)
	if err := clientmetrics.Count(cfg, f.opts.Registry); err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = controller.Run(ctx, client, f.opts)
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled)) {
		return nil
	}
	return err
}
