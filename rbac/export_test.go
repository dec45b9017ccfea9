package rbac

// Names the external tests use; unexported for importers.
const KubeadmNodeAutoapproveBootstrapBinding = kubeadmNodeAutoapproveBootstrapBinding
const ManagedByLabel = managedByLabel
const ManagedByValue = managedByValue
const NodeBootstrapperRole = nodeBootstrapperRole

var GroupSubject = groupSubject
var UserSubject = userSubject

const KubeadmGetNodesRole = kubeadmGetNodesRole
const KubeadmKubeletBootstrapBinding = kubeadmKubeletBootstrapBinding
