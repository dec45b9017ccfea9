package rbac_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
)

var cp *controlplane.ControlPlane

func TestMain(m *testing.M) { testenv.Main(m, controlplane.Options{}, &cp) }

// identity is who a SubjectAccessReview asks about.
type identity struct {
	user   string
	groups []string
}

func bootstrapIdentity(id, group string) identity {
	return identity{user: "system:bootstrap:" + id, groups: []string{"system:bootstrappers", group, "system:authenticated"}}
}

func nodeIdentity(name string) identity {
	return identity{user: "system:node:" + name, groups: []string{"system:nodes", "system:authenticated"}}
}

// access is one question: may who do verb on group/resource/subresource (in namespace)?
type access struct {
	who                                identity
	verb, group, resource, subresource string
	namespace                          string
	allowed                            bool
}

func (a access) String() string {
	res := a.resource
	if a.subresource != "" {
		res += "/" + a.subresource
	}
	return fmt.Sprintf("%s %s %s", a.who.user, a.verb, res)
}

func csrAccess(who identity, verb, subresource string, allowed bool) access {
	return access{who: who, verb: verb, group: "certificates.k8s.io", resource: "certificatesigningrequests", subresource: subresource, allowed: allowed}
}

func allowed(ctx context.Context, client kubernetes.Interface, a access) (bool, error) {
	review, err := client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{
			User:   a.who.user,
			Groups: a.who.groups,
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Verb: a.verb, Group: a.group, Resource: a.resource, Subresource: a.subresource, Namespace: a.namespace,
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return false, err
	}
	return review.Status.Allowed, nil
}

// expectAccess checks every row, polling for a bounded time because the RBAC authorizer
// sees role and binding changes through informers.
func expectAccess(t *testing.T, client kubernetes.Interface, rows []access) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for _, row := range rows {
		for {
			got, err := allowed(ctx, client, row)
			if err != nil {
				t.Fatalf("%s: %v", row, err)
			}
			if got == row.allowed {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s: allowed = %v, want %v", row, got, row.allowed)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}
