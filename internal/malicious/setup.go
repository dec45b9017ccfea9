package malicious

import (
	"context"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// servingRole lets nodes have their serving CSRs approved (Kubernetes ships no such role).
const servingRole = "tlsbootstrap:malicious:selfnodeserver"

// Setup grants the corpus identities what a kubeadm cluster grants: bootstrappers may
// create CSRs and have nodeclient ones approved, nodes have selfnodeclient and
// selfnodeserver, CreatorOnly may only create. It is idempotent.
func Setup(ctx context.Context, admin kubernetes.Interface) error {
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: servingRole},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"certificates.k8s.io"},
			Resources: []string{"certificatesigningrequests/selfnodeserver"}, Verbs: []string{"create"}}},
	}
	if _, err := admin.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating ClusterRole %s: %w", servingRole, err)
	}
	const csrRoles = "system:certificates.k8s.io:certificatesigningrequests:"
	for _, b := range []struct{ name, role, group string }{
		{"tlsbootstrap:malicious:bootstrappers-create", "system:node-bootstrapper", "system:bootstrappers"},
		{"tlsbootstrap:malicious:bootstrappers-nodeclient", csrRoles + "nodeclient", "system:bootstrappers"},
		{"tlsbootstrap:malicious:nodes-selfnodeclient", csrRoles + "selfnodeclient", "system:nodes"},
		{"tlsbootstrap:malicious:nodes-selfnodeserver", servingRole, "system:nodes"},
		{"tlsbootstrap:malicious:creators", "system:node-bootstrapper", CreatorOnly.Groups[0]},
	} {
		crb := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: b.name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: b.role},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: b.group}},
		}
		if _, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating ClusterRoleBinding %s: %w", b.name, err)
		}
	}
	return nil
}
