package rbac_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/rbac"
)

func revokeAtEnd(t *testing.T, client kubernetes.Interface, p rbac.Preset) {
	t.Cleanup(func() {
		if err := rbac.Revoke(context.Background(), client, p); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
}

// versions maps every object of p to its resourceVersion in the cluster.
func versions(t *testing.T, client kubernetes.Interface, p rbac.Preset) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for _, r := range p.ClusterRoles {
		got, err := client.RbacV1().ClusterRoles().Get(ctx, r.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out["ClusterRole/"+r.Name] = got.ResourceVersion
	}
	for _, b := range p.ClusterRoleBindings {
		got, err := client.RbacV1().ClusterRoleBindings().Get(ctx, b.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out["ClusterRoleBinding/"+b.Name] = got.ResourceVersion
	}
	return out
}

func TestApplyTwiceChangesNothing(t *testing.T) {
	ctx := context.Background()
	client := cp.Client()
	for _, p := range []rbac.Preset{
		rbac.KubeadmPreset(""),
		rbac.SeedPreset(rbac.SeedOptions{Nodes: []string{"idem-1", "idem-2"}}),
		rbac.NodeBootstrapperPreset(rbac.UserSubject("kubelet-bootstrap")),
	} {
		t.Run(p.Name, func(t *testing.T) {
			revokeAtEnd(t, client, p)
			if err := rbac.Apply(ctx, client, p); err != nil {
				t.Fatal(err)
			}
			first := versions(t, client, p)
			if err := rbac.Apply(ctx, client, p); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(first, versions(t, client, p)); diff != "" {
				t.Errorf("second Apply wrote objects (resourceVersions -first +second):\n%s", diff)
			}
		})
	}
}

func TestApplyRepairsDrift(t *testing.T) {
	ctx := context.Background()
	client := cp.Client()
	p := rbac.KubeadmPreset("system:bootstrappers:drift")
	revokeAtEnd(t, client, p)
	if err := rbac.Apply(ctx, client, p); err != nil {
		t.Fatal(err)
	}

	// Drift: a binding's subjects replaced, another binding's roleRef changed (delete and
	// re-create, since roleRef is immutable), the role's rules widened, labels removed; an
	// unrelated label added by someone else must survive.
	crbs := client.RbacV1().ClusterRoleBindings()
	b, err := crbs.Get(ctx, rbac.KubeadmKubeletBootstrapBinding, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b.Subjects = []rbacv1.Subject{rbac.GroupSubject("system:authenticated")}
	b.Labels = map[string]string{"team": "platform"}
	if _, err := crbs.Update(ctx, b, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := crbs.Delete(ctx, rbac.KubeadmNodeAutoapproveBootstrapBinding, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	wrongRef := p.ClusterRoleBindings[1].DeepCopy()
	wrongRef.RoleRef.Name = rbac.SelfNodeClientRole
	if _, err := crbs.Create(ctx, wrongRef, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	role, err := client.RbacV1().ClusterRoles().Get(ctx, rbac.KubeadmGetNodesRole, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	role.Rules[0].Verbs = []string{"get", "list", "delete"}
	if _, err := client.RbacV1().ClusterRoles().Update(ctx, role, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	if err := rbac.Apply(ctx, client, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range p.ClusterRoleBindings {
		got, err := crbs.Get(ctx, want.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want.RoleRef, got.RoleRef); diff != "" {
			t.Errorf("%s roleRef not repaired (-want +got):\n%s", want.Name, diff)
		}
		if diff := cmp.Diff(want.Subjects, got.Subjects); diff != "" {
			t.Errorf("%s subjects not repaired (-want +got):\n%s", want.Name, diff)
		}
		if got.Labels[rbac.ManagedByLabel] != rbac.ManagedByValue {
			t.Errorf("%s lacks the managed-by label: %v", want.Name, got.Labels)
		}
	}
	b, _ = crbs.Get(ctx, rbac.KubeadmKubeletBootstrapBinding, metav1.GetOptions{})
	if b.Labels["team"] != "platform" {
		t.Errorf("a label added by someone else was dropped: %v", b.Labels)
	}
	role, _ = client.RbacV1().ClusterRoles().Get(ctx, rbac.KubeadmGetNodesRole, metav1.GetOptions{})
	if diff := cmp.Diff(p.ClusterRoles[0].Rules, role.Rules); diff != "" {
		t.Errorf("role rules not repaired (-want +got):\n%s", diff)
	}

	// And the repaired state is stable.
	before := versions(t, client, p)
	if err := rbac.Apply(ctx, client, p); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, versions(t, client, p)); diff != "" {
		t.Errorf("Apply after repair wrote again:\n%s", diff)
	}
}

func TestRevokeIsIdempotent(t *testing.T) {
	ctx := context.Background()
	client := cp.Client()
	p := rbac.SeedPreset(rbac.SeedOptions{})
	if err := rbac.Apply(ctx, client, p); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := rbac.Revoke(ctx, client, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range p.ClusterRoles {
		if _, err := client.RbacV1().ClusterRoles().Get(ctx, r.Name, metav1.GetOptions{}); err == nil {
			t.Errorf("ClusterRole %s survived Revoke", r.Name)
		}
	}
	// Built-in roles the preset binds are never deleted.
	if _, err := client.RbacV1().ClusterRoles().Get(ctx, rbac.NodeBootstrapperRole, metav1.GetOptions{}); err != nil {
		t.Errorf("built-in %s: %v", rbac.NodeBootstrapperRole, err)
	}
}
