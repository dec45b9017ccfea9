package rbac

import (
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// Preset is a set of plain RBAC objects that Apply writes and Revoke deletes. It holds
// only objects it owns: built-in roles it binds (system:node-bootstrapper, ...) are
// referenced, never included.
type Preset struct {
	// Name says what the preset is for, in messages.
	Name string
	// ClusterRoles are created before the bindings.
	ClusterRoles []rbacv1.ClusterRole
	// ClusterRoleBindings are created after the roles.
	ClusterRoleBindings []rbacv1.ClusterRoleBinding
}

// Merge returns a preset holding p's objects followed by others'.
func (p Preset) Merge(others ...Preset) Preset {
	out := Preset{Name: p.Name}
	out.ClusterRoles = append(out.ClusterRoles, p.ClusterRoles...)
	out.ClusterRoleBindings = append(out.ClusterRoleBindings, p.ClusterRoleBindings...)
	for _, o := range others {
		out.Name += "+" + o.Name
		out.ClusterRoles = append(out.ClusterRoles, o.ClusterRoles...)
		out.ClusterRoleBindings = append(out.ClusterRoleBindings, o.ClusterRoleBindings...)
	}
	return out
}

// KubeadmPreset is what kubeadm init writes for joining nodes, for tokens in group (empty
// means token.KubeadmDefaultGroup): the group may create CSRs (kubeadm:kubelet-bootstrap), has
// them auto-approved (kubeadm:node-autoapprove-bootstrap) and may get nodes
// (kubeadm:get-nodes); every node has its renewals auto-approved
// (kubeadm:node-autoapprove-certificate-rotation).
func KubeadmPreset(group string) Preset {
	if group == "" {
		group = token.KubeadmDefaultGroup
	}
	return Preset{
		Name: "kubeadm",
		ClusterRoles: []rbacv1.ClusterRole{
			clusterRole(kubeadmGetNodesRole, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get"}}),
		},
		ClusterRoleBindings: []rbacv1.ClusterRoleBinding{
			binding(kubeadmKubeletBootstrapBinding, nodeBootstrapperRole, groupSubject(group)),
			binding(kubeadmNodeAutoapproveBootstrapBinding, NodeClientRole, groupSubject(group)),
			binding(kubeadmNodeAutoapproveRotationBinding, SelfNodeClientRole, groupSubject(csr.NodesGroup)),
			binding(kubeadmGetNodesBinding, kubeadmGetNodesRole, groupSubject(group)),
		},
	}
}

// SeedOptions configure SeedPreset.
type SeedOptions struct {
	// Group is the bootstrap group. Default token.DefaultGroup.
	Group string
	// Nodes, when set, makes the renewal bindings per node (NodeRenewalBinding and
	// NodeServingRenewalBinding for each) instead of for the whole group system:nodes, so
	// that removing a node's bindings revokes its renewals.
	Nodes []string
}

// SeedPreset is the seed documents' set: the ClusterRoles approve-node-client-csr,
// approve-node-client-renewal-csr and approve-node-server-renewal-csr; the bootstrap group
// may create CSRs (kubelet-bootstrap) and has them auto-approved
// (node-client-auto-approve-csr); renewals are auto-approved for system:nodes
// (node-client-auto-renew-crt, node-server-auto-renew-crt) or, with opts.Nodes, per node.
func SeedPreset(opts SeedOptions) Preset {
	group := opts.Group
	if group == "" {
		group = token.DefaultGroup
	}
	p := Preset{
		Name: "seed",
		ClusterRoles: []rbacv1.ClusterRole{
			csrSubresourceRole(approveNodeClientCSRRole, nodeClientSubresource),
			csrSubresourceRole(approveNodeClientRenewalCSRRole, selfNodeClientSubresource),
			csrSubresourceRole(ApproveNodeServerRenewalCSRRole, selfNodeServerSubresource),
		},
		ClusterRoleBindings: []rbacv1.ClusterRoleBinding{
			binding(seedKubeletBootstrapBinding, nodeBootstrapperRole, groupSubject(group)),
			binding(seedAutoApproveCSRBinding, approveNodeClientCSRRole, groupSubject(group)),
		},
	}
	if len(opts.Nodes) == 0 {
		p.ClusterRoleBindings = append(p.ClusterRoleBindings,
			binding(seedClientRenewBinding, approveNodeClientRenewalCSRRole, groupSubject(csr.NodesGroup)),
			binding(seedServerRenewBinding, ApproveNodeServerRenewalCSRRole, groupSubject(csr.NodesGroup)))
		return p
	}
	for _, node := range opts.Nodes {
		p.ClusterRoleBindings = append(p.ClusterRoleBindings, NodeRenewalBinding(node), NodeServingRenewalBinding(node))
	}
	return p
}

// ServingRenewalPreset is the seed documents' grant for serving certificates alone: the
// ClusterRole approve-node-server-renewal-csr bound to the group system:nodes
// (node-server-auto-renew-crt), which the servingapproving controller asks for by
// SubjectAccessReview (create on certificatesigningrequests/selfnodeserver).
func ServingRenewalPreset() Preset {
	return Preset{
		Name:                "serving-renewal",
		ClusterRoles:        []rbacv1.ClusterRole{csrSubresourceRole(ApproveNodeServerRenewalCSRRole, selfNodeServerSubresource)},
		ClusterRoleBindings: []rbacv1.ClusterRoleBinding{binding(seedServerRenewBinding, ApproveNodeServerRenewalCSRRole, groupSubject(csr.NodesGroup))},
	}
}

// NodeRenewalBinding binds approve-node-client-renewal-csr to the user system:node:<name>
// alone, in a binding named node-client-auto-renew-crt:<name>. Deleting it stops the
// auto-approval of that node's client renewals: the node drops out when its certificate
// expires.
func NodeRenewalBinding(nodeName string) rbacv1.ClusterRoleBinding {
	return binding(nodeClientRenewBindingPrefix+nodeName, approveNodeClientRenewalCSRRole, userSubject(csr.NodeUserPrefix+nodeName))
}

// NodeServingRenewalBinding binds approve-node-server-renewal-csr to the user
// system:node:<name> alone, in a binding named node-server-auto-renew-crt:<name>.
func NodeServingRenewalBinding(nodeName string) rbacv1.ClusterRoleBinding {
	return binding(nodeServerRenewBindingPrefix+nodeName, ApproveNodeServerRenewalCSRRole, userSubject(csr.NodeUserPrefix+nodeName))
}

// nodeBootstrapperBinding binds system:node-bootstrapper to subject (for example the user
// of a static token), in a binding named tlsbootstrap:node-bootstrapper:<kind>:<name>.
func nodeBootstrapperBinding(subject rbacv1.Subject) rbacv1.ClusterRoleBinding {
	name := nodeBootstrapperBindingPrefix + strings.ToLower(subject.Kind) + ":" + subject.Name
	return binding(name, nodeBootstrapperRole, subject)
}

// NodeBootstrapperPreset is a preset holding nodeBootstrapperBinding(subject).
func NodeBootstrapperPreset(subject rbacv1.Subject) Preset {
	return Preset{Name: "node-bootstrapper", ClusterRoleBindings: []rbacv1.ClusterRoleBinding{nodeBootstrapperBinding(subject)}}
}

// userSubject is the RBAC subject for a user.
func userSubject(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}
}

// groupSubject is the RBAC subject for a group.
func groupSubject(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: name}
}

func clusterRole(name string, rules ...rbacv1.PolicyRule) rbacv1.ClusterRole {
	return rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: managedLabels()},
		Rules:      rules,
	}
}

func csrSubresourceRole(name, subresource string) rbacv1.ClusterRole {
	return clusterRole(name, rbacv1.PolicyRule{
		APIGroups: []string{certificatesGroup},
		Resources: []string{csrResource + "/" + subresource},
		Verbs:     []string{"create"},
	})
}

func binding(name, role string, subjects ...rbacv1.Subject) rbacv1.ClusterRoleBinding {
	return rbacv1.ClusterRoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "ClusterRoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: managedLabels()},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   subjects,
	}
}

func managedLabels() map[string]string { return map[string]string{managedByLabel: managedByValue} }
