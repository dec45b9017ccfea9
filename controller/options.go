package controller

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"k8s.io/utils/clock"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

// The controller names of --controllers.
const (
	CSRApproving     = "csrapproving"
	CSRSigning       = "csrsigning"
	CSRCleaner       = "csrcleaner"
	TokenCleaner     = "tokencleaner"
	ServingApproving = "servingapproving"
	// BootstrapSigner signs kube-public/cluster-info for bootstrap tokens (discovery.ClusterInfoSigner).
	BootstrapSigner = "bootstrapsigner"
	// TrustPublisher publishes the CA bundle of every signer with a CA as a
	// ClusterTrustBundle and as ConfigMaps in Options.TrustBundleNamespaces (trust.Publish).
	TrustPublisher = "trustpublisher"
	// NodeCertificates keeps each node's newest client and serving certificate (from every
	// issued kubelet CSR, whoever signed it) in ConfigMaps of
	// Options.NodeCertificateNamespace, exported as expiry counts and read by
	// tokenctl status; the record outlives the cleaner and restarts.
	NodeCertificates = "nodecertificates"
)

// KnownControllers lists every name Options.Controllers accepts.
func KnownControllers() []string {
	return []string{CSRApproving, CSRSigning, CSRCleaner, TokenCleaner, ServingApproving, BootstrapSigner, TrustPublisher, NodeCertificates}
}

// DefaultOptions are the values Run uses for the fields an Options leaves zero: what
// csr-controller's flags default to.
func DefaultOptions() Options {
	return Options{
		// kube-controller-manager's CSR controllers.
		Controllers:     []string{CSRApproving, CSRSigning, CSRCleaner},
		SigningDuration: 8760 * time.Hour,
		// The work is waiting on the API server (two writes per CSR), so more workers than
		// kube-controller-manager's 5 keep a join storm moving at little cost.
		Workers:             16,
		SARCacheTTL:         new(approve.DefaultSARCacheTTL()),
		PendingWarningAfter: new(15 * time.Minute),
		CleanerInterval:     time.Hour,
		ExpiryHorizons:      []time.Duration{24 * time.Hour, 7 * 24 * time.Hour},
		// Enough for every CSR of a normal day (two Events each), while a join storm of
		// thousands spends its API requests on approvals and certificates instead.
		EventQPS:   5,
		EventBurst: 100,
		LeaderElection: LeaderElection{
			Namespace: "kube-system", Name: "tlsbootstrap-csr-controller",
			// kube-controller-manager's.
			LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second,
		},
	}
}

// Options configure Run. Zero values take the defaults named on each field.
type Options struct {
	// Controllers to run (KnownControllers). Default csrapproving, csrsigning and
	// csrcleaner, as kube-controller-manager. ServingApproving needs CSRApproving.
	Controllers []string
	// ClusterSigningCA signs for every built-in signer without its own entry in SignerCAs:
	// a *sign.CA held in memory (sign.ParseCA, sign.NewSelfSignedCA), or a *sign.FileCA
	// that reloads its files when they change (kube-controller-manager's
	// --cluster-signing-cert-file/--cluster-signing-key-file).
	ClusterSigningCA sign.CAProvider
	// SignerCAs give individual built-in signers their own CA, keyed by signer name.
	SignerCAs map[string]sign.CAProvider
	// CustomSigners are signer names of your own, each with its own CA and policy
	// (sign.SignerPolicy; sign.LoadSignerPolicies reads them from a file). Signed by the
	// csrsigning controller; never auto-approved.
	CustomSigners []sign.SignerPolicy
	// ServingPolicy is what the servingapproving controller allows beyond SANs among the
	// Node's own addresses; the zero value enforces every rule (approve.ServingPolicy).
	ServingPolicy approve.ServingPolicy
	// SigningDuration is the longest certificate lifetime. Default 8760h.
	SigningDuration time.Duration
	// Workers per controller. Default 16.
	Workers int
	// SARCacheTTL bounds how long an allowed SubjectAccessReview answer is reused (so how
	// long a revoked binding can still approve). nil: 5s; 0: every decision asks anew.
	SARCacheTTL *time.Duration
	// PendingWarningAfter is how long a CSR of a signer the approver handles may stay
	// pending before a Warning Event (reason PendingTooLong) says so, once, with the reason
	// of the approver's last decision. nil: 15m; 0: never.
	PendingWarningAfter *time.Duration
	// CleanerInterval is the time between two passes of the csrcleaner controller (it
	// also makes one at start). Default 1h, as kube-controller-manager; shorter for tests.
	CleanerInterval time.Duration
	// EventQPS and EventBurst are the budget of Events written on CSRs: beyond it Events
	// are dropped and counted (tlsbootstrap_events_dropped_total) so that a join storm's
	// API requests go to approvals and certificates. Defaults 5 and 100.
	EventQPS   float64
	EventBurst int
	// UnlimitedEvents writes every Event, whatever EventQPS and EventBurst say.
	UnlimitedEvents bool
	// LeaderElection, when Enabled, runs the controllers only while holding a Lease.
	LeaderElection LeaderElection
	// MetricsBindAddress serves /metrics, /healthz and /readyz (e.g. ":8080"). Empty or
	// "0" disables the server.
	MetricsBindAddress string
	// Registry receives the controllers' metrics (and the Go and process collectors when
	// Run creates it). Default: a new registry.
	Registry *prometheus.Registry
	// TrustBundleNamespaces are where the trustpublisher controller keeps a ConfigMap of
	// each signer's CA bundle (trust.ConfigMapName, key "ca.crt"). Empty, or "*" alone, means
	// every namespace, those created later included.
	TrustBundleNamespaces []string
	// NodeCertificateNamespace holds the nodecertificates controller's ConfigMaps.
	// Default LeaderElection.Namespace (the controller's own).
	NodeCertificateNamespace string
	// ExpiryHorizons are the horizons of tlsbootstrap_node_certificates_expiring. Default
	// 24h and 168h.
	ExpiryHorizons []time.Duration

	// trustClock is the trustpublisher's clock (expiry, resync); tests set it.
	trustClock clock.WithTicker
	// recordFlush is the nodecertificates controller's write period; tests shorten it.
	recordFlush time.Duration
}

// LeaderElection configures the Lease that makes one replica active.
type LeaderElection struct {
	Enabled bool
	// Namespace and Name of the Lease. Default kube-system/tlsbootstrap-csr-controller.
	Namespace, Name string
	// Identity of this replica. Default hostname_<random>.
	Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod default to 15s, 10s and 2s, as
	// kube-controller-manager.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// ReleaseOnCancel gives the Lease up when Run's context ends, so another replica takes
	// over at once instead of after LeaseDuration.
	ReleaseOnCancel bool
}

func (o *Options) enabled(name string) bool { return slices.Contains(o.Controllers, name) }

func (o *Options) complete() error {
	d := DefaultOptions()
	if len(o.Controllers) == 0 {
		o.Controllers = d.Controllers
	}
	known := KnownControllers()
	for _, c := range o.Controllers {
		if !slices.Contains(known, c) {
			return fmt.Errorf("unknown controller %q (known: %s)", c, strings.Join(known, ", "))
		}
	}
	if o.enabled(ServingApproving) && !o.enabled(CSRApproving) {
		return fmt.Errorf("controller %q needs %q", ServingApproving, CSRApproving)
	}
	if err := o.ServingPolicy.Validate(); err != nil {
		return err
	}
	for _, c := range []string{CSRSigning, TrustPublisher} {
		if o.enabled(c) && o.ClusterSigningCA == nil && len(o.SignerCAs) == 0 && len(o.CustomSigners) == 0 {
			return fmt.Errorf("controller %q needs a CA: set ClusterSigningCA, SignerCAs or CustomSigners", c)
		}
	}
	if _, err := trustNamespaces(o.TrustBundleNamespaces); err != nil {
		return err
	}
	if o.enabled(TrustPublisher) {
		if _, err := trustSigners(o); err != nil {
			return err
		}
	}
	if o.trustClock == nil {
		o.trustClock = clock.RealClock{}
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
		o.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if o.SigningDuration == 0 {
		o.SigningDuration = d.SigningDuration
	}
	if o.Workers <= 0 {
		o.Workers = d.Workers
	}
	if o.SARCacheTTL == nil {
		o.SARCacheTTL = d.SARCacheTTL
	}
	if o.PendingWarningAfter == nil {
		o.PendingWarningAfter = d.PendingWarningAfter
	}
	if len(o.ExpiryHorizons) == 0 {
		o.ExpiryHorizons = d.ExpiryHorizons
	}
	if o.CleanerInterval <= 0 {
		o.CleanerInterval = d.CleanerInterval
	}
	if o.EventQPS <= 0 {
		o.EventQPS = d.EventQPS
	}
	if o.EventBurst <= 0 {
		o.EventBurst = d.EventBurst
	}
	le, dle := &o.LeaderElection, d.LeaderElection
	if le.Namespace == "" {
		le.Namespace = dle.Namespace
	}
	if le.Name == "" {
		le.Name = dle.Name
	}
	if le.LeaseDuration == 0 {
		le.LeaseDuration = dle.LeaseDuration
	}
	if le.RenewDeadline == 0 {
		le.RenewDeadline = dle.RenewDeadline
	}
	if le.RetryPeriod == 0 {
		le.RetryPeriod = dle.RetryPeriod
	}
	if o.NodeCertificateNamespace == "" {
		o.NodeCertificateNamespace = le.Namespace
	}
	return nil
}
