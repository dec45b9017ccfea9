package conformance

import (
	"context"
	"fmt"
	"slices"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

func clusterSetupCases() []testCase {
	return []testCase{
		{
			Name: "token-authenticates", Profile: ProfileClusterSetup, Core: true,
			Description: "a bootstrap token authenticates as system:bootstrap:<id> in system:bootstrappers, its extra groups and system:authenticated",
			Run: func(ctx context.Context, t *caseT) {
				group := "system:bootstrappers:" + t.uniqueName("group")
				tok := t.createToken(ctx, tokenOptions{authentication: true, expires: time.Now().Add(time.Hour), groups: []string{group}})
				user, groups := t.waitAuthenticates(ctx, tok)
				want := []string{"system:authenticated", "system:bootstrappers", group}
				got := slices.Clone(groups)
				slices.Sort(got)
				slices.Sort(want)
				if user != tok.user() || !slices.Equal(got, want) {
					t.Errorf("expected user %s with groups %v; got user %s with groups %v", tok.user(), want, user, got)
				}
			},
		},
		unauthorizedCase("token-expired-unauthorized", "an expired token", func(ctx context.Context, t *caseT) string {
			return t.createToken(ctx, tokenOptions{authentication: true, expires: time.Now().Add(-time.Minute)}).value()
		}),
		unauthorizedCase("token-wrong-secret-unauthorized", "a known token id with the wrong secret", func(ctx context.Context, t *caseT) string {
			tok := t.createToken(ctx, tokenOptions{authentication: true, expires: time.Now().Add(time.Hour)})
			wrong := []byte(tok.secret)
			if wrong[0] == 'a' {
				wrong[0] = 'b'
			} else {
				wrong[0] = 'a'
			}
			return tok.id + "." + string(wrong)
		}),
		unauthorizedCase("token-without-auth-usage-unauthorized", "a token without usage-bootstrap-authentication", func(ctx context.Context, t *caseT) string {
			return t.createToken(ctx, tokenOptions{authentication: false, expires: time.Now().Add(time.Hour)}).value()
		}),
		{
			Name: "bootstrap-rights", Profile: ProfileClusterSetup, Core: true,
			Description: "a join token in the bootstrap group may exactly create/read CSRs, have them approved through nodeclient and get nodes (the kubeadm preset)",
			Run: func(ctx context.Context, t *caseT) {
				tok := t.createToken(ctx, tokenOptions{authentication: true, expires: time.Now().Add(10 * time.Minute), groups: []string{t.Options.BootstrapGroup}})
				t.waitAuthenticates(ctx, tok)
				client := t.bearerClient(tok.value())
				for _, row := range bootstrapRightsMatrix {
					allowed, err := selfAllowed(ctx, client, row.attrs)
					if err != nil {
						t.Fatalf("SelfSubjectAccessReview as %s: %v", tok.user(), err)
					}
					if allowed != row.allowed {
						t.Errorf("expected %s to be %s %s; the API server says allowed=%t", tok.user(), allowedWord(row.allowed), describeAttrs(row.attrs), allowed)
					}
				}
			},
		},
		{
			Name: "revoke-removes-rights", Profile: ProfileClusterSetup, Core: true,
			Description: "deleting the binding that lets a bootstrap group create CSRs and use nodeclient takes both rights away",
			Run: func(ctx context.Context, t *caseT) {
				group := "system:bootstrappers:" + t.uniqueName("group")
				tok := t.createToken(ctx, tokenOptions{authentication: true, expires: time.Now().Add(10 * time.Minute), groups: []string{group}})
				t.waitAuthenticates(ctx, tok)
				who := &csrIdentity{User: tok.user(), Groups: []string{"system:bootstrappers", group}}
				binding := t.grantTo(ctx, rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: group}, who, grantCreateCSR, grantNodeClient)
				client := t.bearerClient(tok.value())
				checks := []authorizationv1.ResourceAttributes{grantAttributes(grantCreateCSR), grantAttributes(grantNodeClient)}
				for _, attrs := range checks {
					if allowed, err := selfAllowed(ctx, client, attrs); err != nil || !allowed {
						t.Fatalf("expected the granted token to be allowed %s; allowed=%t err=%v", describeAttrs(attrs), allowed, err)
					}
				}
				if err := t.Client.RbacV1().ClusterRoleBindings().Delete(ctx, binding, metav1.DeleteOptions{}); err != nil {
					t.Fatalf("deleting ClusterRoleBinding %s: %v", binding, err)
				}
				for _, attrs := range checks {
					t.Eventually(ctx, "the token to lose "+describeAttrs(attrs)+" after its binding was deleted", func(ctx context.Context) (bool, string, error) {
						allowed, err := selfAllowed(ctx, client, attrs)
						return !allowed, fmt.Sprintf("allowed=%t", allowed), err
					})
				}
			},
		},
	}
}

// unauthorizedCase: the bad token made by bad gets 401. A valid token created after it
// must authenticate first, so the authenticator's cache has seen the bad token's Secret.
func unauthorizedCase(name, what string, bad func(ctx context.Context, t *caseT) string) testCase {
	return testCase{
		Name: name, Profile: ProfileClusterSetup, Core: true,
		Description: what + " gets 401 Unauthorized",
		Run: func(ctx context.Context, t *caseT) {
			value := bad(ctx, t)
			t.waitAuthenticates(ctx, t.createToken(ctx, tokenOptions{authentication: true, expires: time.Now().Add(time.Hour)}))
			user, groups, err := whoAmI(ctx, t.bearerClient(value))
			switch {
			case err == nil:
				t.Errorf("expected %s to get 401 Unauthorized; it authenticated as %s %v", what, user, groups)
			case !apierrors.IsUnauthorized(err):
				t.Errorf("expected %s to get 401 Unauthorized; got: %v", what, err)
			}
		},
	}
}

type rightsRow struct {
	attrs   authorizationv1.ResourceAttributes
	allowed bool
}

func csrAttrs(verb, subresource string) authorizationv1.ResourceAttributes {
	return authorizationv1.ResourceAttributes{Group: "certificates.k8s.io", Resource: "certificatesigningrequests", Subresource: subresource, Verb: verb}
}

// bootstrapRightsMatrix is what the kubeadm preset gives the bootstrap group
// (system:node-bootstrapper, nodeclient, get nodes) and a sample of what it must not have.
var bootstrapRightsMatrix = []rightsRow{
	{csrAttrs("create", ""), true},
	{csrAttrs("get", ""), true},
	{csrAttrs("list", ""), true},
	{csrAttrs("watch", ""), true},
	{csrAttrs("create", "nodeclient"), true},
	{authorizationv1.ResourceAttributes{Resource: "nodes", Verb: "get", Name: "some-node"}, true},
	{csrAttrs("create", "selfnodeclient"), false},
	{csrAttrs("create", "selfnodeserver"), false},
	{csrAttrs("update", "approval"), false},
	{csrAttrs("update", "status"), false},
	{csrAttrs("delete", ""), false},
	{csrAttrs("update", ""), false},
	{authorizationv1.ResourceAttributes{Group: "certificates.k8s.io", Resource: "signers", Name: "kubernetes.io/kube-apiserver-client-kubelet", Verb: "approve"}, false},
	{authorizationv1.ResourceAttributes{Group: "certificates.k8s.io", Resource: "signers", Name: "kubernetes.io/kube-apiserver-client-kubelet", Verb: "sign"}, false},
	{authorizationv1.ResourceAttributes{Namespace: "kube-system", Resource: "secrets", Verb: "list"}, false},
	{authorizationv1.ResourceAttributes{Namespace: "kube-system", Resource: "secrets", Verb: "get", Name: "bootstrap-token-abcdef"}, false},
	{authorizationv1.ResourceAttributes{Resource: "nodes", Verb: "list"}, false},
	{authorizationv1.ResourceAttributes{Resource: "nodes", Verb: "create"}, false},
	{authorizationv1.ResourceAttributes{Namespace: "default", Resource: "pods", Verb: "create"}, false},
	{authorizationv1.ResourceAttributes{Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings", Verb: "create"}, false},
}

func selfAllowed(ctx context.Context, client kubernetes.Interface, attrs authorizationv1.ResourceAttributes) (bool, error) {
	review, err := client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
		Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &attrs},
	}, metav1.CreateOptions{})
	if err != nil {
		return false, err
	}
	return review.Status.Allowed, nil
}

func whoAmI(ctx context.Context, client kubernetes.Interface) (string, []string, error) {
	review, err := client.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return "", nil, err
	}
	return review.Status.UserInfo.Username, review.Status.UserInfo.Groups, nil
}

func describeAttrs(a authorizationv1.ResourceAttributes) string {
	res := a.Resource
	if a.Group != "" {
		res += "." + a.Group
	}
	if a.Subresource != "" {
		res += "/" + a.Subresource
	}
	if a.Name != "" {
		res += " " + a.Name
	}
	if a.Namespace != "" {
		res += " in " + a.Namespace
	}
	return a.Verb + " " + res
}

func allowedWord(allowed bool) string {
	if allowed {
		return "allowed"
	}
	return "denied"
}
