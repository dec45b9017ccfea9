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
	// ServingNode, when set, is a Node object (with ServingIP and the name as Hostname
	// addresses) created before the case, for serving approval.
	ServingNode string
}

// ServingIP is the InternalIP of every serving case's Node.
const ServingIP = "10.77.0.1"

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

// Cases builds the corpus. prefix makes node names unique to one run (CSR and Node names
// must not collide with an earlier run against the same cluster).
func Cases(prefix string) ([]Case, error) {
	var out []Case
	var buildErr error
	build(prefix, func(c Case, s spec) {
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
