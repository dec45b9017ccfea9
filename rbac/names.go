package rbac

// Built-in ClusterRoles of the API server's bootstrap policy that the presets bind.
const (
	// nodeBootstrapperRole may create, get, list and watch certificatesigningrequests.
	nodeBootstrapperRole = "system:node-bootstrapper"
	// NodeClientRole may create certificatesigningrequests/nodeclient: the approver
	// auto-approves a new node's client CSR from a requester holding it.
	NodeClientRole = "system:certificates.k8s.io:certificatesigningrequests:nodeclient"
	// SelfNodeClientRole may create certificatesigningrequests/selfnodeclient: the approver
	// auto-approves a node renewing its own client certificate.
	SelfNodeClientRole = "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient"
)

// The kubeadm preset's objects.
const (
	// kubeadmKubeletBootstrapBinding binds nodeBootstrapperRole to the bootstrap group.
	kubeadmKubeletBootstrapBinding = "kubeadm:kubelet-bootstrap"
	// kubeadmNodeAutoapproveBootstrapBinding binds NodeClientRole to the bootstrap group.
	kubeadmNodeAutoapproveBootstrapBinding = "kubeadm:node-autoapprove-bootstrap"
	// kubeadmNodeAutoapproveRotationBinding binds SelfNodeClientRole to csr.NodesGroup.
	kubeadmNodeAutoapproveRotationBinding = "kubeadm:node-autoapprove-certificate-rotation"
	// kubeadmGetNodesRole may get nodes (kubeadm join checks whether its node exists).
	kubeadmGetNodesRole = "kubeadm:get-nodes"
	// kubeadmGetNodesBinding binds kubeadmGetNodesRole to the bootstrap group.
	kubeadmGetNodesBinding = "kubeadm:get-nodes"
)

// The seed documents' preset's objects.
const (
	// approveNodeClientCSRRole may create certificatesigningrequests/nodeclient.
	approveNodeClientCSRRole = "approve-node-client-csr"
	// approveNodeClientRenewalCSRRole may create certificatesigningrequests/selfnodeclient.
	approveNodeClientRenewalCSRRole = "approve-node-client-renewal-csr"
	// ApproveNodeServerRenewalCSRRole may create certificatesigningrequests/selfnodeserver.
	ApproveNodeServerRenewalCSRRole = "approve-node-server-renewal-csr"

	// seedKubeletBootstrapBinding binds nodeBootstrapperRole to the bootstrap group.
	seedKubeletBootstrapBinding = "kubelet-bootstrap"
	// seedAutoApproveCSRBinding binds approveNodeClientCSRRole to the bootstrap group.
	seedAutoApproveCSRBinding = "node-client-auto-approve-csr"
	// seedClientRenewBinding binds approveNodeClientRenewalCSRRole to csr.NodesGroup.
	seedClientRenewBinding = "node-client-auto-renew-crt"
	// seedServerRenewBinding binds ApproveNodeServerRenewalCSRRole to csr.NodesGroup.
	seedServerRenewBinding = "node-server-auto-renew-crt"
	// nodeClientRenewBindingPrefix precedes the node name in a per-node client renewal
	// binding (see NodeRenewalBinding).
	nodeClientRenewBindingPrefix = seedClientRenewBinding + ":"
	// nodeServerRenewBindingPrefix precedes the node name in a per-node serving renewal
	// binding (see NodeServingRenewalBinding).
	nodeServerRenewBindingPrefix = seedServerRenewBinding + ":"
	// nodeBootstrapperBindingPrefix precedes "<user|group>:<name>" in the name of a
	// nodeBootstrapperBinding.
	nodeBootstrapperBindingPrefix = "tlsbootstrap:node-bootstrapper:"
)

// CSR API names used in the rules.
const (
	certificatesGroup = "certificates.k8s.io"
	csrResource       = "certificatesigningrequests"
	// nodeClientSubresource is what the approver asks a SubjectAccessReview about for a
	// new node's client CSR.
	nodeClientSubresource = "nodeclient"
	// selfNodeClientSubresource is asked about for a node renewing its client certificate.
	selfNodeClientSubresource = "selfnodeclient"
	// selfNodeServerSubresource is asked about for a node's serving certificate.
	selfNodeServerSubresource = "selfnodeserver"
)

// The label every preset object carries, so they can be found with a label selector.
const (
	// managedByLabel is the label's key.
	managedByLabel = "app.kubernetes.io/managed-by"
	// managedByValue is the label's value.
	managedByValue = "tlsbootstrap"
)
