package malicious

import (
	"fmt"

	certificatesv1 "k8s.io/api/certificates/v1"
)

// Identity is who submits a case (by impersonation).
type Identity struct {
	User   string
	Groups []string
}

// The identities of the corpus. Setup grants them exactly what a kubeadm cluster grants.
var (
	// Bootstrapper is a bootstrap token: may create CSRs and have nodeclient CSRs approved.
	Bootstrapper = Identity{User: "system:bootstrap:abcdef", Groups: []string{"system:bootstrappers"}}
	// CreatorOnly may create CSRs (system:node-bootstrapper) but holds no approval grant.
	CreatorOnly = Identity{User: "mallory", Groups: []string{"tlsbootstrap:malicious:creators"}}
	// Nobody holds no permission at all.
	Nobody = Identity{User: "eve", Groups: nil}
	// FakeBootstrapGroup claims a bootstrap-like group that nothing is bound to.
	FakeBootstrapGroup = Identity{User: "system:bootstrap:zzzzzz", Groups: []string{"system:bootstrappers:evil"}}
)

// nodeID is the node's own identity as the Node authorizer expects it.
func nodeID(name string) Identity {
	return Identity{User: "system:node:" + name, Groups: []string{"system:nodes"}}
}

// Case is one CSR and the decisions it may end in.
type Case struct {
	// Name is unique in the corpus; Category groups cases in the report.
	Name, Category string
	// As submits the CSR.
	As Identity
	// SignerName and Usages of the CSR; ExpirationSeconds when non-nil.
	SignerName        string
	Usages            []certificatesv1.KeyUsage
	ExpirationSeconds *int32
	// Request is spec.request.
	Request []byte
	// Want is the set of acceptable outcomes.
	Want Outcome
	// AdminApproves: a human approves the CSR blindly after it is created (the signer must
	// still refuse what breaks its rules and never issue a CA).
	AdminApproves bool
	// Nodes are created, in order, before any case's CSR is submitted (for serving
	// approval): a victim before the attacker that lists its addresses, so the controller's
	// Node cache never holds the attacker without the victim.
	Nodes []NodeSpec
	// DenyRule, when set, is the serving rule the case must be denied by: the CSR must end
	// Denied (reason AutoDenied) with the rule named in the message, first or among the
	// further rules. Another ending counts as unexpected (a wrong approval still counts as
	// one).
	DenyRule string
}

// Env is what the corpus reads from the cluster it runs against.
type Env struct {
	// KubernetesServiceIP is the ClusterIP of the default/kubernetes Service.
	KubernetesServiceIP string
	// ServiceCIDR is a range of the "kubernetes" ServiceCIDR object; empty when the API
	// server serves no ServiceCIDRs (the case asking for an IP inside it is then left out).
	ServiceCIDR string
	// APIServerIPs are the API server's addresses (the default/kubernetes EndpointSlices)
	// and the IPs of its serving certificate: no legitimate Node is given one (the API
	// server may well advertise an address in a documentation range the corpus uses).
	APIServerIPs []string
}

// DefaultEnv is the test control plane's as far as it is known without asking it
// (envtest's service CIDR 10.0.0.0/24, certificate for 127.0.0.1); ReadEnv reads it.
var DefaultEnv = Env{KubernetesServiceIP: "10.0.0.1", ServiceCIDR: "10.0.0.0/24", APIServerIPs: []string{"127.0.0.1"}}

var (
	uDS            = certificatesv1.UsageDigitalSignature
	uKE            = certificatesv1.UsageKeyEncipherment
	uCA            = certificatesv1.UsageClientAuth
	uSA            = certificatesv1.UsageServerAuth
	kubeletClient  = certificatesv1.KubeAPIServerClientKubeletSignerName
	kubeletServing = certificatesv1.KubeletServingSignerName
	apiClient      = certificatesv1.KubeAPIServerClientSignerName
	clientUsages   = []certificatesv1.KeyUsage{uDS, uCA}
	servingUsages  = []certificatesv1.KeyUsage{uDS, uKE, uSA}
	nodesOrg       = []string{"system:nodes"}
)

func i32(v int32) *int32 { return &v }

// Cases builds the corpus for DefaultEnv. prefix makes node names unique to one run (CSR
// and Node names must not collide with an earlier run against the same cluster).
func Cases(prefix string) ([]Case, error) { return CasesFor(prefix, DefaultEnv) }

// CasesFor builds the corpus for a cluster described by env (ReadEnv).
func CasesFor(prefix string, env Env) ([]Case, error) {
	var out []Case
	var buildErr error
	plan := newAddrPlan(prefix, env.APIServerIPs)
	build(prefix, env, plan, func(c Case, s spec) {
		req, err := s.build()
		if err != nil {
			if buildErr == nil {
				buildErr = fmt.Errorf("building case %s: %w", c.Name, err)
			}
			return
		}
		c.Request = req
		out = append(out, c)
	})
	if buildErr == nil {
		buildErr = plan.err
	}
	if buildErr != nil {
		return nil, buildErr
	}
	seen := map[string]bool{}
	for _, c := range out {
		if seen[c.Name] {
			return nil, fmt.Errorf("case name %q used twice", c.Name)
		}
		seen[c.Name] = true
	}
	return out, nil
}
