package rbac_test

import (
	"context"
	"testing"

	"github.com/tlsbootstrap/tlsbootstrap/rbac"
)

// TestKubeadmPresetAccess asks the real RBAC authorizer, through SubjectAccessReviews,
// what a bootstrap token of the preset's group and a node may do before the preset is
// applied, after, and after it is revoked.
func TestKubeadmPresetAccess(t *testing.T) {
	ctx := context.Background()
	client := cp.Client()
	const group = "system:bootstrappers:sar-test"
	p := rbac.KubeadmPreset(group)
	boot := bootstrapIdentity("sar123", group)
	node := nodeIdentity("sar-node")

	before := []access{
		csrAccess(boot, "create", "", false),
		csrAccess(boot, "create", "nodeclient", false),
		csrAccess(node, "create", "selfnodeclient", false),
		{who: boot, verb: "get", resource: "nodes", allowed: false},
	}
	expectAccess(t, client, before)

	if err := rbac.Apply(ctx, client, p); err != nil {
		t.Fatal(err)
	}
	revokeAtEnd(t, client, p)
	expectAccess(t, client, []access{
		csrAccess(boot, "create", "", true),
		csrAccess(boot, "get", "", true),
		csrAccess(boot, "list", "", true),
		csrAccess(boot, "watch", "", true),
		csrAccess(boot, "create", "nodeclient", true),
		csrAccess(boot, "create", "selfnodeclient", false),
		csrAccess(boot, "update", "approval", false),
		csrAccess(boot, "delete", "", false),
		{who: boot, verb: "get", resource: "nodes", allowed: true},
		{who: boot, verb: "list", resource: "nodes", allowed: false},
		{who: boot, verb: "get", resource: "secrets", namespace: "kube-system", allowed: false},
		{who: boot, verb: "list", resource: "secrets", allowed: false},
		csrAccess(node, "create", "selfnodeclient", true),
		// Another bootstrap group gains nothing.
		csrAccess(bootstrapIdentity("other1", "system:bootstrappers:other"), "create", "", false),
	})

	if err := rbac.Revoke(ctx, client, p); err != nil {
		t.Fatal(err)
	}
	expectAccess(t, client, []access{
		csrAccess(boot, "create", "", false),
		csrAccess(boot, "create", "nodeclient", false),
		csrAccess(node, "create", "selfnodeclient", false),
		{who: boot, verb: "get", resource: "nodes", allowed: false},
	})
}

// TestNodeRenewalBindingIsPerNode shows the seed documents' per-node renewal: only the bound
// node may have its renewals auto-approved, and removing its binding takes that away.
func TestNodeRenewalBindingIsPerNode(t *testing.T) {
	ctx := context.Background()
	client := cp.Client()
	p := rbac.SeedPreset(rbac.SeedOptions{Group: "system:bootstrappers:seed-test", Nodes: []string{"seed-a"}})
	if err := rbac.Apply(ctx, client, p); err != nil {
		t.Fatal(err)
	}
	revokeAtEnd(t, client, p)
	a, b := nodeIdentity("seed-a"), nodeIdentity("seed-b")
	boot := bootstrapIdentity("seed12", "system:bootstrappers:seed-test")
	expectAccess(t, client, []access{
		csrAccess(boot, "create", "", true),
		csrAccess(boot, "create", "nodeclient", true),
		csrAccess(a, "create", "selfnodeclient", true),
		csrAccess(a, "create", "selfnodeserver", true),
		csrAccess(b, "create", "selfnodeclient", false),
		csrAccess(b, "create", "selfnodeserver", false),
	})

	if err := rbac.Revoke(ctx, client, rbac.Preset{Name: "seed-a renewal", ClusterRoleBindings: p.ClusterRoleBindings[2:3]}); err != nil {
		t.Fatal(err)
	}
	expectAccess(t, client, []access{
		csrAccess(a, "create", "selfnodeclient", false),
		csrAccess(a, "create", "selfnodeserver", true),
	})
}

// TestNodeBootstrapperBindingForStaticUser binds system:node-bootstrapper to a user.
func TestNodeBootstrapperBindingForStaticUser(t *testing.T) {
	ctx := context.Background()
	client := cp.Client()
	user := identity{user: "kubelet-bootstrap", groups: []string{"system:kubelet-bootstrap", "system:authenticated"}}
	p := rbac.NodeBootstrapperPreset(rbac.UserSubject("kubelet-bootstrap"))
	expectAccess(t, client, []access{csrAccess(user, "create", "", false)})
	if err := rbac.Apply(ctx, client, p); err != nil {
		t.Fatal(err)
	}
	revokeAtEnd(t, client, p)
	expectAccess(t, client, []access{
		csrAccess(user, "create", "", true),
		csrAccess(user, "create", "nodeclient", false),
	})
}
