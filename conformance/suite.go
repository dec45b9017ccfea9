package conformance

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// Profile groups the cases that check one part of the flow; an implementation is run
// against the profiles it implements.
type Profile string

// The profiles of the suite.
const (
	// ProfileClusterSetup checks bootstrap-token authentication and the bootstrap RBAC.
	ProfileClusterSetup Profile = "cluster-setup"
	// ProfileApprover checks the CSR approver of kubelet client certificates
	// (kube-controller-manager's csrapproving).
	ProfileApprover Profile = "approver"
	// ProfileServing checks an approver of kubelet serving certificates
	// (kubernetes.io/kubelet-serving), which Kubernetes does not ship: the rules every safe
	// one holds, and the kubelet-shaped requests it must approve. It needs
	// FeatureServingApproval; an approver of client certificates only reports the whole
	// profile NOT_SUPPORTED, not failed.
	ProfileServing Profile = "serving"
	// ProfileSigner checks the CSR signer (kube-controller-manager's csrsigning).
	ProfileSigner Profile = "signer"
	// ProfileNode checks a node's bootstrap program (the kubelet's bootstrap).
	ProfileNode Profile = "node"
	// ProfileCleaner checks the CSR cleaner's retention rules.
	ProfileCleaner Profile = "cleaner"
)

// Profiles lists every profile in the order the suite runs them.
func Profiles() []Profile {
	return []Profile{ProfileClusterSetup, ProfileApprover, ProfileServing, ProfileSigner, ProfileNode, ProfileCleaner}
}

// Feature is an optional capability a profile or an extended case needs. An
// implementation lists the features it lacks in Options.UnsupportedFeatures; their cases
// report NOT_SUPPORTED.
type Feature string

// The features profiles and extended cases declare.
const (
	// FeatureServingApproval: the approver approves kubelet serving CSRs (the serving
	// profile). kube-controller-manager never does.
	FeatureServingApproval Feature = "ServingApproval"
	// FeatureServingUniqueAddresses: a serving SAN another Node holds (its address or its
	// name) is not approved, even when the requesting Node lists it too.
	FeatureServingUniqueAddresses Feature = "ServingUniqueAddresses"
	// FeatureServingReservedAddresses: the kubernetes Service IP, loopback, link-local and
	// the API server's own addresses are not approved, even when the Node lists them.
	FeatureServingReservedAddresses Feature = "ServingReservedAddresses"
	// FeatureServingDNSRules: wildcards, localhost and kubernetes.default.svc are not
	// approved as DNS SANs, even when the Node lists them.
	FeatureServingDNSRules Feature = "ServingDNSRules"
	// FeatureServingAllowedPrefixes: the approver allows IP SANs only in
	// Environment.ServingAllowedIPPrefixes.
	FeatureServingAllowedPrefixes Feature = "ServingAllowedPrefixes"
	// FeatureServingAuditMode: the approver audits a rule that addresses in
	// Environment.ServingAuditedIPPrefixes break: it approves them and reports the finding
	// in a Warning Event on the CSR.
	FeatureServingAuditMode Feature = "ServingAuditMode"
	// FeatureClientRotation: the node program renews its client certificate before expiry.
	FeatureClientRotation Feature = "ClientRotation"
	// FeatureCSRCleaner: a CSR cleaner runs and deletes CSRs by the retention table.
	FeatureCSRCleaner Feature = "CSRCleaner"
)

// Features lists every feature a profile or case may declare.
func Features() []Feature {
	return []Feature{FeatureServingApproval, FeatureServingUniqueAddresses, FeatureServingReservedAddresses,
		FeatureServingDNSRules, FeatureServingAllowedPrefixes, FeatureServingAuditMode,
		FeatureClientRotation, FeatureCSRCleaner}
}

// profileFeatures are the features every case of a profile needs, core cases included.
var profileFeatures = map[Profile][]Feature{
	ProfileServing: {FeatureServingApproval},
}

// knownUnsupported are features implementations lack by their source, so a run need not
// be told: keyed by Implementation.Name.
var knownUnsupported = map[string]struct {
	features []Feature
	why      string
}{
	"kube-controller-manager": {
		features: []Feature{FeatureServingApproval},
		why:      "kube-controller-manager approves no kubelet-serving CSR (its csrapproving recognizes kubelet client CSRs only)",
	},
}

// Implementation names what is under test, for the report.
type Implementation struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// DefaultOptions are the values Run uses for the fields an Options leaves zero: what the
// conformance program's flags default to.
func DefaultOptions() Options {
	return Options{
		SigningDuration:   8760 * time.Hour,
		BootstrapGroup:    token.KubeadmDefaultGroup,
		CaseTimeout:       90 * time.Second,
		ObservationWindow: 5 * time.Second,
		// kube-controller-manager's csrcleaner period.
		CleanerInterval: time.Hour,
		Parallelism:     4,
	}
}

// Options say where and what to test. RESTConfig (or Kubeconfig) must be an admin
// identity: the suite creates tokens, RBAC objects, Nodes and CSRs, approves and denies,
// and impersonates requesters.
type Options struct {
	// RESTConfig of an admin. Wins over Kubeconfig.
	RESTConfig *rest.Config
	// Kubeconfig is a path to an admin kubeconfig, used when RESTConfig is nil.
	Kubeconfig string
	// Implementation under test, as shown in the report. Features the named
	// implementation is known to lack (kube-controller-manager: ServingApproval) are
	// reported NOT_SUPPORTED without being declared.
	Implementation Implementation
	// Provision, when set, starts the implementation under test before the first case and
	// stops it after the last: the hook another project's tests use to run the suite
	// against their approver or signer. Without it, the implementation must be running.
	Provision ProvisionFunc
	// Profiles to run. Empty: all.
	Profiles []Profile
	// UnsupportedFeatures are reported NOT_SUPPORTED instead of run.
	UnsupportedFeatures []Feature
	// CACertPEM is the CA the signer under test signs with; issued certificates must
	// chain to it. Without it the chain case is SKIPPED.
	CACertPEM []byte
	// SigningDuration is the longest lifetime the signer under test is configured with
	// (kube-controller-manager's --cluster-signing-duration). Default 8760h.
	SigningDuration time.Duration
	// BootstrapGroup is the group the cluster's join tokens carry, whose rights the
	// cluster-setup profile checks. Default the kubeadm group.
	BootstrapGroup string
	// NodeCommand bootstraps one node: argv with the placeholders {bootstrap-kubeconfig},
	// {kubeconfig}, {cert-dir} and {node-name}. It must exit 0 once the kubeconfig is
	// written. Without it the node profile is SKIPPED.
	NodeCommand []string
	// NodeRotateCommand runs one node that stays up and renews its client certificate,
	// with the placeholders of NodeCommand. The suite starts it in the background, stops
	// it with SIGINT (then kills it) at the end of the case, and needs it to renew within
	// seconds: for the project's node-agent, --renew-after=3s without --once. Without it
	// node/rotates-before-expiry is SKIPPED.
	NodeRotateCommand []string
	// CleanerInterval is how often the implementation's CSR cleaner makes a pass, which
	// bounds how long cleaner/retention waits for a deletion. Default 1h
	// (kube-controller-manager's), longer than a case may wait: set it to a cleaner
	// configured to run every few seconds.
	CleanerInterval time.Duration
	// CaseTimeout bounds each case. Default 90s.
	CaseTimeout time.Duration
	// ObservationWindow is how long a case watches for something that must not happen
	// (an approval, a certificate) after a control object proved the controller is
	// working. Default 5s.
	ObservationWindow time.Duration
	// Focus, when set, runs only the cases whose full name (profile/name) it contains.
	Focus []string
	// Progress, when set, is called after each case (one call at a time).
	Progress func(CaseResult)
	// Parallelism is how many cases run at once. Cases are independent (each makes its own
	// identities, bindings and CSRs), and most of a run is waiting: observation windows and
	// approvals. Default 4; 1 runs them one after another.
	Parallelism int
}

func (c Options) withDefaults() Options {
	d := DefaultOptions()
	if c.SigningDuration == 0 {
		c.SigningDuration = d.SigningDuration
	}
	if c.BootstrapGroup == "" {
		c.BootstrapGroup = d.BootstrapGroup
	}
	if c.CaseTimeout == 0 {
		c.CaseTimeout = d.CaseTimeout
	}
	if c.Parallelism <= 0 {
		c.Parallelism = d.Parallelism
	}
	if c.CleanerInterval <= 0 {
		c.CleanerInterval = d.CleanerInterval
	}
	if c.ObservationWindow == 0 {
		c.ObservationWindow = d.ObservationWindow
	}
	return c
}

func (c Options) restConfig() (*rest.Config, error) {
	if c.RESTConfig != nil {
		return rest.CopyConfig(c.RESTConfig), nil
	}
	if c.Kubeconfig == "" {
		return nil, errors.New("conformance: Options needs RESTConfig or Kubeconfig (an admin identity)")
	}
	rc, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("conformance: loading kubeconfig %s: %w", c.Kubeconfig, err)
	}
	return rc, nil
}

func (c Options) validate() error {
	for _, p := range c.Profiles {
		if !slices.Contains(Profiles(), p) {
			return fmt.Errorf("conformance: unknown profile %q (known: %v)", p, Profiles())
		}
	}
	for _, f := range c.UnsupportedFeatures {
		if !slices.Contains(Features(), f) {
			return fmt.Errorf("conformance: unknown feature %q (known: %v)", f, Features())
		}
	}
	if c.SigningDuration < 10*time.Minute {
		return fmt.Errorf("conformance: SigningDuration %s is under the 10m minimum of a signer", c.SigningDuration)
	}
	return nil
}

func (c Options) wantsProfile(p Profile) bool {
	return len(c.Profiles) == 0 || slices.Contains(c.Profiles, p)
}
