package conformance

import (
	"context"
	"fmt"
	"slices"
	"strings"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// grantKind is a right the suite gives a requester for one case, with a ClusterRole and
// binding of its own (the cluster's own bindings are never touched).
type grantKind string

// The grants a requester can hold.
const (
	// grantCreateCSR: create/get/list/watch CSRs (what system:node-bootstrapper allows).
	grantCreateCSR grantKind = "certificatesigningrequests"
	// grantNodeClient: create on certificatesigningrequests/nodeclient.
	grantNodeClient grantKind = "certificatesigningrequests/nodeclient"
	// grantSelfNodeClient: create on certificatesigningrequests/selfnodeclient.
	grantSelfNodeClient grantKind = "certificatesigningrequests/selfnodeclient"
	// grantSelfNodeServer: create on certificatesigningrequests/selfnodeserver.
	grantSelfNodeServer grantKind = "certificatesigningrequests/selfnodeserver"
)

// csrIdentity is a requester the suite acts as, through impersonation: the API server
// records the impersonated user and groups in a CSR's spec, exactly as for a real one.
type csrIdentity struct {
	User   string
	Groups []string
	Client kubernetes.Interface
}

// Impersonate returns a client acting as user in groups (system:authenticated is added
// by the server).
func (t *caseT) impersonate(user string, groups ...string) *csrIdentity {
	rc := rest.CopyConfig(t.RESTConfig)
	rc.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatalf("building a client impersonating %s: %v", user, err)
	}
	return &csrIdentity{User: user, Groups: groups, Client: client}
}

// BootstrapRequester is a bootstrap-token identity (system:bootstrap:<id> in
// system:bootstrappers and a group of its own) holding grants.
func (t *caseT) bootstrapRequester(ctx context.Context, grants ...grantKind) *csrIdentity {
	id := randomLabel(6)
	group := "system:bootstrappers:" + t.uniqueName("group")
	who := t.impersonate("system:bootstrap:"+id, "system:bootstrappers", group)
	t.grantTo(ctx, rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: group}, who, grants...)
	return who
}

// NodeRequester is the node identity system:node:<name> in system:nodes, holding grants
// given to that user alone.
func (t *caseT) nodeRequester(ctx context.Context, nodeName string, grants ...grantKind) *csrIdentity {
	who := t.impersonate(nodeUser(nodeName), "system:nodes")
	t.grantTo(ctx, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: who.User}, who, grants...)
	return who
}

// PlainRequester is a user outside the bootstrap and node groups, holding grants: a
// requester no approver should act for unless granted.
func (t *caseT) plainRequester(ctx context.Context, grants ...grantKind) *csrIdentity {
	group := "tlsbootstrap-conformance:" + t.uniqueName("group")
	who := t.impersonate("tlsbootstrap-conformance:"+t.uniqueName("user"), group)
	t.grantTo(ctx, rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: group}, who, grants...)
	return who
}

// GrantTo creates a ClusterRole with the grants and binds it to subject, removes both at
// cleanup, and waits until the API server's authorizer allows who every grant (RBAC is
// eventually consistent). It returns the name of the role and binding.
func (t *caseT) grantTo(ctx context.Context, subject rbacv1.Subject, who *csrIdentity, grants ...grantKind) string {
	if len(grants) == 0 {
		return ""
	}
	name := "tlsbootstrap-conformance:" + t.uniqueName("grant")
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: suiteLabels}}
	for _, g := range grants {
		role.Rules = append(role.Rules, grantRule(g))
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: suiteLabels},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{subject},
	}
	rbacClient := t.Client.RbacV1()
	if _, err := rbacClient.ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating ClusterRole %s: %v", name, err)
	}
	t.cleanup(func(ctx context.Context) error {
		return ignoreNotFound(rbacClient.ClusterRoles().Delete(ctx, name, metav1.DeleteOptions{}))
	})
	if _, err := rbacClient.ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating ClusterRoleBinding %s: %v", name, err)
	}
	t.cleanup(func(ctx context.Context) error {
		return ignoreNotFound(rbacClient.ClusterRoleBindings().Delete(ctx, name, metav1.DeleteOptions{}))
	})
	for _, g := range grants {
		attrs := grantAttributes(g)
		t.Eventually(ctx, fmt.Sprintf("%s to be allowed %s after binding it", who.User, g), func(ctx context.Context) (bool, string, error) {
			allowed, reason, err := t.allowed(ctx, who.User, who.Groups, attrs)
			return allowed, fmt.Sprintf("allowed=%t %s", allowed, reason), err
		})
	}
	return name
}

// allowed asks a SubjectAccessReview for user and groups (plus system:authenticated).
func (t *caseT) allowed(ctx context.Context, user string, groups []string, attrs authorizationv1.ResourceAttributes) (bool, string, error) {
	all := slices.Clone(groups)
	if !slices.Contains(all, "system:authenticated") {
		all = append(all, "system:authenticated")
	}
	review, err := t.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{User: user, Groups: all, ResourceAttributes: &attrs},
	}, metav1.CreateOptions{})
	if err != nil {
		return false, "", fmt.Errorf("SubjectAccessReview for %s: %w", user, err)
	}
	return review.Status.Allowed, review.Status.Reason, nil
}

func grantRule(g grantKind) rbacv1.PolicyRule {
	if g == grantCreateCSR {
		return rbacv1.PolicyRule{APIGroups: []string{"certificates.k8s.io"}, Resources: []string{string(g)}, Verbs: []string{"create", "get", "list", "watch"}}
	}
	return rbacv1.PolicyRule{APIGroups: []string{"certificates.k8s.io"}, Resources: []string{string(g)}, Verbs: []string{"create"}}
}

func grantAttributes(g grantKind) authorizationv1.ResourceAttributes {
	attrs := authorizationv1.ResourceAttributes{Group: "certificates.k8s.io", Resource: "certificatesigningrequests", Verb: "create"}
	if _, sub, ok := strings.Cut(string(g), "/"); ok {
		attrs.Subresource = sub
	}
	return attrs
}

// suiteLabels mark everything the suite creates, so a leftover is easy to find.
var suiteLabels = map[string]string{"app.kubernetes.io/managed-by": "tlsbootstrap-conformance"}

func nodeUser(nodeName string) string { return "system:node:" + nodeName }

func ignoreNotFound(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
