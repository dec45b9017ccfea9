package rbac

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
)

// bindingRow is a binding reduced to what grants rights.
type bindingRow struct{ Name, Role, Kind, Subject string }

func rows(p Preset) []bindingRow {
	var out []bindingRow
	for _, b := range p.ClusterRoleBindings {
		for _, s := range b.Subjects {
			out = append(out, bindingRow{b.Name, b.RoleRef.Name, s.Kind, s.Name})
		}
	}
	return out
}

func TestPresetBindings(t *testing.T) {
	tests := []struct {
		name      string
		preset    Preset
		wantRoles []string
		want      []bindingRow
	}{
		{
			name:      "kubeadm default group",
			preset:    KubeadmPreset(""),
			wantRoles: []string{"kubeadm:get-nodes"},
			want: []bindingRow{
				{"kubeadm:kubelet-bootstrap", "system:node-bootstrapper", "Group", "system:bootstrappers:kubeadm:default-node-token"},
				{"kubeadm:node-autoapprove-bootstrap", "system:certificates.k8s.io:certificatesigningrequests:nodeclient", "Group", "system:bootstrappers:kubeadm:default-node-token"},
				{"kubeadm:node-autoapprove-certificate-rotation", "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", "Group", "system:nodes"},
				{"kubeadm:get-nodes", "kubeadm:get-nodes", "Group", "system:bootstrappers:kubeadm:default-node-token"},
			},
		},
		{
			name:      "kubeadm custom group",
			preset:    KubeadmPreset("system:bootstrappers:pool-a"),
			wantRoles: []string{"kubeadm:get-nodes"},
			want: []bindingRow{
				{"kubeadm:kubelet-bootstrap", "system:node-bootstrapper", "Group", "system:bootstrappers:pool-a"},
				{"kubeadm:node-autoapprove-bootstrap", "system:certificates.k8s.io:certificatesigningrequests:nodeclient", "Group", "system:bootstrappers:pool-a"},
				{"kubeadm:node-autoapprove-certificate-rotation", "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", "Group", "system:nodes"},
				{"kubeadm:get-nodes", "kubeadm:get-nodes", "Group", "system:bootstrappers:pool-a"},
			},
		},
		{
			name:      "seed, renewals for system:nodes",
			preset:    SeedPreset(SeedOptions{}),
			wantRoles: []string{"approve-node-client-csr", "approve-node-client-renewal-csr", "approve-node-server-renewal-csr"},
			want: []bindingRow{
				{"kubelet-bootstrap", "system:node-bootstrapper", "Group", "system:bootstrappers"},
				{"node-client-auto-approve-csr", "approve-node-client-csr", "Group", "system:bootstrappers"},
				{"node-client-auto-renew-crt", "approve-node-client-renewal-csr", "Group", "system:nodes"},
				{"node-server-auto-renew-crt", "approve-node-server-renewal-csr", "Group", "system:nodes"},
			},
		},
		{
			name:      "seed, renewals per node",
			preset:    SeedPreset(SeedOptions{Group: "system:bootstrappers:x", Nodes: []string{"n1"}}),
			wantRoles: []string{"approve-node-client-csr", "approve-node-client-renewal-csr", "approve-node-server-renewal-csr"},
			want: []bindingRow{
				{"kubelet-bootstrap", "system:node-bootstrapper", "Group", "system:bootstrappers:x"},
				{"node-client-auto-approve-csr", "approve-node-client-csr", "Group", "system:bootstrappers:x"},
				{"node-client-auto-renew-crt:n1", "approve-node-client-renewal-csr", "User", "system:node:n1"},
				{"node-server-auto-renew-crt:n1", "approve-node-server-renewal-csr", "User", "system:node:n1"},
			},
		},
		{
			name:      "serving renewal alone",
			preset:    ServingRenewalPreset(),
			wantRoles: []string{"approve-node-server-renewal-csr"},
			want: []bindingRow{
				{"node-server-auto-renew-crt", "approve-node-server-renewal-csr", "Group", "system:nodes"},
			},
		},
		{
			name:   "node bootstrapper for a static-token user",
			preset: NodeBootstrapperPreset(userSubject("kubelet-bootstrap")),
			want: []bindingRow{
				{"tlsbootstrap:node-bootstrapper:user:kubelet-bootstrap", "system:node-bootstrapper", "User", "kubelet-bootstrap"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, rows(tc.preset)); diff != "" {
				t.Errorf("bindings (-want +got):\n%s", diff)
			}
			var roles []string
			for _, r := range tc.preset.ClusterRoles {
				roles = append(roles, r.Name)
			}
			if diff := cmp.Diff(tc.wantRoles, roles); diff != "" {
				t.Errorf("roles (-want +got):\n%s", diff)
			}
			for _, b := range tc.preset.ClusterRoleBindings {
				if b.RoleRef.Kind != "ClusterRole" || b.RoleRef.APIGroup != rbacv1.GroupName {
					t.Errorf("%s: roleRef %+v", b.Name, b.RoleRef)
				}
				for _, s := range b.Subjects {
					if s.APIGroup != rbacv1.GroupName {
						t.Errorf("%s: subject %+v lacks the RBAC API group", b.Name, s)
					}
				}
			}
		})
	}
}

func TestSeedRoleRules(t *testing.T) {
	want := map[string]string{
		approveNodeClientCSRRole:        "certificatesigningrequests/nodeclient",
		approveNodeClientRenewalCSRRole: "certificatesigningrequests/selfnodeclient",
		ApproveNodeServerRenewalCSRRole: "certificatesigningrequests/selfnodeserver",
	}
	for _, r := range SeedPreset(SeedOptions{}).ClusterRoles {
		wantRule := rbacv1.PolicyRule{APIGroups: []string{"certificates.k8s.io"}, Resources: []string{want[r.Name]}, Verbs: []string{"create"}}
		if diff := cmp.Diff([]rbacv1.PolicyRule{wantRule}, r.Rules); diff != "" {
			t.Errorf("%s rules (-want +got):\n%s", r.Name, diff)
		}
	}
}

func TestMergeKeepsOrderAndInputs(t *testing.T) {
	a, b := KubeadmPreset(""), NodeBootstrapperPreset(groupSubject("g"))
	m := a.Merge(b)
	if m.Name != "kubeadm+node-bootstrapper" || len(m.ClusterRoleBindings) != 5 || m.ClusterRoleBindings[4].Name != b.ClusterRoleBindings[0].Name {
		t.Errorf("merge = %s with %d bindings", m.Name, len(m.ClusterRoleBindings))
	}
	m.ClusterRoleBindings[0].Name = "changed"
	if a.ClusterRoleBindings[0].Name == "changed" {
		t.Error("Merge shares its result's slice with an input")
	}
}
