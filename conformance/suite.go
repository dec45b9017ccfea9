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
	// ProfileApprover checks the CSR approver (kube-controller-manager's csrapproving).
	ProfileApprover Profile = "approver"
	// ProfileSigner checks the CSR signer (kube-controller-manager's csrsigning).
	ProfileSigner Profile = "signer"
	// ProfileNode checks a node's bootstrap program (the kubelet's bootstrap).
	ProfileNode Profile = "node"
	// ProfileCleaner checks the CSR cleaner's retention rules.
	ProfileCleaner Profile = "cleaner"
)

// Profiles lists every profile in the order the suite runs them.
func Profiles() []Profile {
	return []Profile{ProfileClusterSetup, ProfileApprover, ProfileSigner, ProfileNode, ProfileCleaner}
}

// Feature is an optional capability an extended case needs. An implementation lists
// the features it lacks in Options.UnsupportedFeatures; their cases report NOT_SUPPORTED.
type Feature string

// The features extended cases declare.
const (
	// FeatureServingApproval: the approver approves kubelet serving CSRs whose SANs are
	// among the Node's addresses (Kubernetes never does).
	FeatureServingApproval Feature = "ServingApproval"
	// FeatureClientRotation: the node program renews its client certificate before expiry.
	FeatureClientRotation Feature = "ClientRotation"
	// FeatureCSRCleaner: a CSR cleaner runs and deletes CSRs by the retention table.
	FeatureCSRCleaner Feature = "CSRCleaner"
)

// Features lists every feature a case may declare.
func Features() []Feature {
	return []Feature{FeatureServingApproval, FeatureClientRotation, FeatureCSRCleaner}
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
	// Implementation under test, as shown in the report.
	Implementation Implementation
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
