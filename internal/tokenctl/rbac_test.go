package tokenctl_test

import (
	"context"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// access is one question for a SubjectAccessReview.
type access struct {
	user        string
	groups      []string
	verb        string
	resource    string
	subresource string
	want        bool // after apply; before apply and after revoke every answer is no
}

func (a access) String() string {
	return a.user + " " + strings.Join(a.groups, ",") + " " + a.verb + " " + a.resource + "/" + a.subresource
}

func allowed(t *testing.T, a access) bool {
	t.Helper()
	group := "certificates.k8s.io"
	if a.resource == "nodes" {
		group = ""
	}
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: a.user, Groups: a.groups,
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: a.verb, Group: group, Resource: a.resource, Subresource: a.subresource},
	}}
	res, err := cp.Client().AuthorizationV1().SubjectAccessReviews().Create(context.Background(), sar, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Status.Allowed
}

// expectAccess waits until every answer is as wanted (RBAC changes reach the authorizer
// through its informer, a moment after the write).
func expectAccess(t *testing.T, stage string, checks []access, want func(access) bool) {
	t.Helper()
	var wrong []string
	_ = wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		wrong = wrong[:0]
		for _, c := range checks {
			if allowed(t, c) != want(c) {
				wrong = append(wrong, c.String())
			}
		}
		return len(wrong) == 0, nil
	})
	for _, w := range wrong {
		t.Errorf("%s: %s is not answered as expected", stage, w)
	}
}

func TestRBACApplyRevoke(t *testing.T) {
	const (
		kubeadmGroup = "system:bootstrappers:tokenctl-kubeadm"
		seedGroup    = "system:bootstrappers:tokenctl-seed"
	)
	bootstrapIn := func(group string) (string, []string) {
		return "system:bootstrap:abcdef", []string{"system:bootstrappers", group}
	}
	for _, tc := range []struct {
		name    string
		flags   []string
		objects []string
		checks  []access
	}{
		{
			name:    "kubeadm",
			flags:   []string{"--preset=kubeadm", "--group=" + kubeadmGroup},
			objects: []string{"clusterrole.rbac.authorization.k8s.io/" + "kubeadm:get-nodes", "clusterrolebinding.rbac.authorization.k8s.io/" + "kubeadm:kubelet-bootstrap"},
			checks: func() []access {
				u, g := bootstrapIn(kubeadmGroup)
				return []access{
					{u, g, "create", "certificatesigningrequests", "", true},
					{u, g, "create", "certificatesigningrequests", "nodeclient", true},
					{u, g, "get", "nodes", "", true},
					{u, []string{"system:bootstrappers", "system:bootstrappers:other"}, "create", "certificatesigningrequests", "nodeclient", false},
				}
			}(),
		},
		{
			name:    "seed per node",
			flags:   []string{"--preset=seed", "--group=" + seedGroup, "--node=n1", "--node=n2"},
			objects: []string{"clusterrole.rbac.authorization.k8s.io/" + "approve-node-client-csr", "clusterrolebinding.rbac.authorization.k8s.io/" + "node-client-auto-renew-crt:n2"},
			checks: func() []access {
				u, g := bootstrapIn(seedGroup)
				return []access{
					{u, g, "create", "certificatesigningrequests", "", true},
					{u, g, "create", "certificatesigningrequests", "nodeclient", true},
					{"system:node:n1", nil, "create", "certificatesigningrequests", "selfnodeclient", true},
					{"system:node:n2", nil, "create", "certificatesigningrequests", "selfnodeserver", true},
					{"system:node:n3", nil, "create", "certificatesigningrequests", "selfnodeclient", false},
				}
			}(),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expectAccess(t, "before apply", tc.checks, func(access) bool { return false })

			out := mustRun(t, append([]string{"rbac", "apply", admin()}, tc.flags...)...)
			for _, o := range tc.objects {
				if !strings.Contains(out, o+" applied\n") {
					t.Errorf("apply output lacks %q:\n%s", o, out)
				}
			}
			expectAccess(t, "after apply", tc.checks, func(a access) bool { return a.want })
			mustRun(t, append([]string{"rbac", "apply", admin()}, tc.flags...)...) // idempotent

			out = mustRun(t, append([]string{"rbac", "revoke", admin()}, tc.flags...)...)
			if !strings.Contains(out, tc.objects[1]+" revoked\n") {
				t.Errorf("revoke output lacks %q:\n%s", tc.objects[1], out)
			}
			expectAccess(t, "after revoke", tc.checks, func(access) bool { return false })
		})
	}
}

func TestRBACErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no preset", []string{"rbac", "apply"}, "--preset is required (one of kubeadm, seed)"},
		{"unknown preset", []string{"rbac", "apply", "--preset=kops"}, `unknown preset "kops"`},
		{"nodes with kubeadm", []string{"rbac", "revoke", "--preset=kubeadm", "--node=n1"}, "--node is for the seed preset"},
		{"no subcommand", []string{"rbac"}, "rbac needs a subcommand: apply, revoke"},
		{"unknown subcommand", []string{"rbac", "grant"}, `unknown command "rbac grant"`},
		{"extra argument", []string{"rbac", "apply", "--preset=seed", "now"}, "wrong arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := run(t, append(tc.args, admin())...); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
