package rbac

// Built-in ClusterRoles of the API server's bootstrap policy that the presets bind.
const (
	// NodeBootstrapperRole may create, get, list and watch certificatesigningrequests.
	NodeBootstrapperRole = "system:node-bootstrapper"
	// NodeClientRole may create certificatesigningrequests/nodeclient: the approver
	// auto-approves a new node's client CSR from a requester holding it.
	NodeClientRole = "system:certificates.k8s.io:certificatesigningrequests:nodeclient"
	// SelfNodeClientRole may create certificatesigningrequests/selfnodeclient: the approver
	// auto-approves a node renewing its own client certificate.
	SelfNodeClientRole = "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient"
)

// Groups and name prefixes the presets refer to.
const (
	// BootstrappersGroup is the group of every bootstrap token.
	BootstrappersGroup = "system:bootstrappers"
	// KubeadmDefaultGroup is the extra group of kubeadm's default node token.
	KubeadmDefaultGroup = "system:bootstrappers:kubeadm:default-node-token"
	// NodesGroup is the group of every node's client certificate.
	NodesGroup = "system:nodes"
	// NodeUserPrefix precedes a node's name in its user name.
	NodeUserPrefix = "system:node:"
)

// The kubeadm preset's objects.
const (
	// KubeadmKubeletBootstrapBinding binds NodeBootstrapperRole to the bootstrap group.
	KubeadmKubeletBootstrapBinding = "kubeadm:kubelet-bootstrap"
	// KubeadmNodeAutoapproveBootstrapBinding binds NodeClientRole to the bootstrap group.
	KubeadmNodeAutoapproveBootstrapBinding = "kubeadm:node-autoapprove-bootstrap"
	// KubeadmNodeAutoapproveRotationBinding binds SelfNodeClientRole to NodesGroup.
	KubeadmNodeAutoapproveRotationBinding = "kubeadm:node-autoapprove-certificate-rotation"
	// KubeadmGetNodesRole may get nodes (kubeadm join checks whether its node exists).
	KubeadmGetNodesRole = "kubeadm:get-nodes"
	// KubeadmGetNodesBinding binds KubeadmGetNodesRole to the bootstrap group.
	KubeadmGetNodesBinding = "kubeadm:get-nodes"
)

// The seed documents' preset's objects.
const (
	// ApproveNodeClientCSRRole may create certificatesigningrequests/nodeclient.
	ApproveNodeClientCSRRole = "approve-node-client-csr"
	// ApproveNodeClientRenewalCSRRole may create certificatesigningrequests/selfnodeclient.
	ApproveNodeClientRenewalCSRRole = "approve-node-client-renewal-csr"
	// ApproveNodeServerRenewalCSRRole may create certificatesigningrequests/selfnodeserver.
	ApproveNodeServerRenewalCSRRole = "approve-node-server-renewal-csr"

	// SeedKubeletBootstrapBinding binds NodeBootstrapperRole to the bootstrap group.
	SeedKubeletBootstrapBinding = "kubelet-bootstrap"
	// SeedAutoApproveCSRBinding binds ApproveNodeClientCSRRole to the bootstrap group.
	SeedAutoApproveCSRBinding = "node-client-auto-approve-csr"
	// SeedClientRenewBinding binds ApproveNodeClientRenewalCSRRole to NodesGroup.
	SeedClientRenewBinding = "node-client-auto-renew-crt"
	// SeedServerRenewBinding binds ApproveNodeServerRenewalCSRRole to NodesGroup.
	SeedServerRenewBinding = "node-server-auto-renew-crt"
	// NodeClientRenewBindingPrefix precedes the node name in a per-node client renewal
	// binding (see NodeRenewalBinding).
	NodeClientRenewBindingPrefix = SeedClientRenewBinding + ":"
	// NodeServerRenewBindingPrefix precedes the node name in a per-node serving renewal
	// binding (see NodeServingRenewalBinding).
	NodeServerRenewBindingPrefix = SeedServerRenewBinding + ":"
	// NodeBootstrapperBindingPrefix precedes "<user|group>:<name>" in the name of a
	// NodeBootstrapperBinding.
	NodeBootstrapperBindingPrefix = "tlsbootstrap:node-bootstrapper:"
)

// CSR API names used in the rules.
const (
	certificatesGroup = "certificates.k8s.io"
	csrResource       = "certificatesigningrequests"
	// NodeClientSubresource is what the approver asks a SubjectAccessReview about for a
	// new node's client CSR.
	NodeClientSubresource = "nodeclient"
	// SelfNodeClientSubresource is asked about for a node renewing its client certificate.
	SelfNodeClientSubresource = "selfnodeclient"
	// SelfNodeServerSubresource is asked about for a node's serving certificate.
	SelfNodeServerSubresource = "selfnodeserver"
)

// The label every preset object carries, so they can be found with a label selector.
const (
	// ManagedByLabel is the label's key.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// ManagedByValue is the label's value.
	ManagedByValue = "tlsbootstrap"
)
