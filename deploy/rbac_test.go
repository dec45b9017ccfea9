package deploy_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/tlsbootstrap/tlsbootstrap/deploy"
)

// access is one question for the ServiceAccount: may it do verb on
// group/resource[/subresource][ name] [in namespace]?
type access struct {
	verb, group, resource, subresource, name, namespace string
}

func (a access) String() string {
	s := a.verb + " " + a.resource
	if a.group != "" {
		s = a.verb + " " + a.group + "/" + a.resource
	}
	if a.subresource != "" {
		s += "/" + a.subresource
	}
	if a.name != "" {
		s += " " + a.name
	}
	if a.namespace != "" {
		s += " in " + a.namespace
	}
	return s
}

const (
	certs    = "certificates.k8s.io"
	client   = "kubernetes.io/kube-apiserver-client-kubelet"
	serving  = "kubernetes.io/kubelet-serving"
	ns       = deploy.Namespace
	kubeSys  = "kube-system"
	rbacAPI  = "rbac.authorization.k8s.io"
	leaseAPI = "coordination.k8s.io"
	sliceAPI = "discovery.k8s.io"
	netAPI   = "networking.k8s.io"
	// The Service (and EndpointSlice) of the API server, the only ones servingapproving
	// reads: the informers list and watch with the field selector metadata.name=kubernetes,
	// which the API server authorizes as a request for that name.
	kubeSvc = "kubernetes"
	defNS   = "default"
)

// What the base's controllers (csrapproving, csrsigning, csrcleaner) do.
var baseRights = []access{
	{"get", certs, "certificatesigningrequests", "", "", ""},
	{"list", certs, "certificatesigningrequests", "", "", ""},
	{"watch", certs, "certificatesigningrequests", "", "", ""},
	{"delete", certs, "certificatesigningrequests", "", "node-csr-x", ""},
	{"update", certs, "certificatesigningrequests", "approval", "node-csr-x", ""},
	{"update", certs, "certificatesigningrequests", "status", "node-csr-x", ""},
	{"approve", certs, "signers", "", client, ""},
	{"sign", certs, "signers", "", client, ""},
	{"sign", certs, "signers", "", serving, ""},
	{"create", "authorization.k8s.io", "subjectaccessreviews", "", "", ""},
	{"create", "", "events", "", "", "default"},
	{"patch", "", "events", "", "x.123", "default"},
	{"get", leaseAPI, "leases", "", deploy.LeaseName, ns},
	{"create", leaseAPI, "leases", "", "", ns},
	{"update", leaseAPI, "leases", "", deploy.LeaseName, ns},
}

// What servingapproving adds.
var servingRights = []access{
	{"approve", certs, "signers", "", serving, ""},
	{"get", "", "nodes", "", "node-1", ""},
	{"list", "", "nodes", "", "", ""},
	{"watch", "", "nodes", "", "", ""},
	{"get", "", "services", "", kubeSvc, defNS},
	{"list", "", "services", "", kubeSvc, defNS},
	{"watch", "", "services", "", kubeSvc, defNS},
	{"get", sliceAPI, "endpointslices", "", kubeSvc, defNS},
	{"list", sliceAPI, "endpointslices", "", kubeSvc, defNS},
	{"watch", sliceAPI, "endpointslices", "", kubeSvc, defNS},
	{"list", netAPI, "servicecidrs", "", "", ""},
	{"watch", netAPI, "servicecidrs", "", "", ""},
}

// What tokencleaner adds.
var tokenCleanerRights = []access{
	{"list", "", "secrets", "", "", kubeSys},
	{"watch", "", "secrets", "", "", kubeSys},
	{"delete", "", "secrets", "", "bootstrap-token-abcdef", kubeSys},
}

// Never, with any component: broader than what the controllers do.
var neverRights = []access{
	{"create", certs, "certificatesigningrequests", "", "", ""},
	{"update", certs, "certificatesigningrequests", "", "node-csr-x", ""},
	{"patch", certs, "certificatesigningrequests", "", "node-csr-x", ""},
	{"deletecollection", certs, "certificatesigningrequests", "", "", ""},
	{"approve", certs, "signers", "", "kubernetes.io/kube-apiserver-client", ""},
	{"approve", certs, "signers", "", "kubernetes.io/legacy-unknown", ""},
	{"approve", certs, "signers", "", "example.com/anything", ""},
	{"approve", certs, "signers", "", "kubernetes.io/*", ""},
	{"sign", certs, "signers", "", "kubernetes.io/kube-apiserver-client", ""},
	{"sign", certs, "signers", "", "example.com/anything", ""},
	{"attest", certs, "signers", "", client, ""},
	{"create", certs, "clustertrustbundles", "", "", ""},
	{"get", "", "secrets", "", "bootstrap-token-abcdef", kubeSys},
	{"create", "", "secrets", "", "", kubeSys},
	{"update", "", "secrets", "", "bootstrap-token-abcdef", kubeSys},
	{"list", "", "secrets", "", "", ""},
	{"list", "", "secrets", "", "", "default"},
	{"get", "", "secrets", "", deploy.CASecret, ns},
	{"list", "", "secrets", "", "", ns},
	{"create", "", "nodes", "", "", ""},
	{"update", "", "nodes", "", "node-1", ""},
	{"patch", "", "nodes", "", "node-1", ""},
	{"delete", "", "nodes", "", "node-1", ""},
	{"update", "", "nodes", "status", "node-1", ""},
	{"escalate", rbacAPI, "clusterroles", "", "", ""},
	{"bind", rbacAPI, "clusterroles", "", "cluster-admin", ""},
	{"create", rbacAPI, "clusterrolebindings", "", "", ""},
	{"escalate", rbacAPI, "roles", "", "", ns},
	{"bind", rbacAPI, "roles", "", "", ns},
	{"create", rbacAPI, "rolebindings", "", "", ns},
	{"impersonate", "", "users", "", "", ""},
	{"impersonate", "", "serviceaccounts", "", "", ns},
	{"create", "", "serviceaccounts", "token", deploy.ServiceAccount, ns},
	{"list", "", "pods", "", "", ""},
	{"create", "", "pods", "", "", ns},
	{"update", leaseAPI, "leases", "", "kube-controller-manager", kubeSys},
	{"update", leaseAPI, "leases", "", deploy.LeaseName, "default"},
	{"delete", leaseAPI, "leases", "", deploy.LeaseName, ns},
	{"create", "", "events", "", "", kubeSys},
	{"delete", "", "events", "", "x.123", "default"},
	{"list", "", "configmaps", "", "", kubeSys},
	// servingapproving reads default/kubernetes only: not every Service or EndpointSlice
	// of default (a list without the name), not another one by name, not the same name in
	// another namespace, and none across namespaces; and it never writes them.
	{"list", "", "services", "", "", defNS},
	{"watch", "", "services", "", "", defNS},
	{"get", "", "services", "", "other", defNS},
	{"list", "", "services", "", "other", defNS},
	{"list", "", "services", "", "", kubeSys},
	{"list", "", "services", "", kubeSvc, kubeSys},
	{"get", "", "services", "", kubeSvc, ns},
	{"list", "", "services", "", "", ""},
	{"watch", "", "services", "", "", ""},
	{"update", "", "services", "", kubeSvc, defNS},
	{"delete", "", "services", "", kubeSvc, defNS},
	{"list", sliceAPI, "endpointslices", "", "", defNS},
	{"watch", sliceAPI, "endpointslices", "", "", defNS},
	{"get", sliceAPI, "endpointslices", "", "other", defNS},
	{"list", sliceAPI, "endpointslices", "", "", kubeSys},
	{"list", sliceAPI, "endpointslices", "", kubeSvc, kubeSys},
	{"list", sliceAPI, "endpointslices", "", "", ""},
	{"update", sliceAPI, "endpointslices", "", kubeSvc, defNS},
	{"list", "", "endpoints", "", kubeSvc, defNS},
	{"create", netAPI, "servicecidrs", "", "", ""},
	{"update", netAPI, "servicecidrs", "", "kubernetes", ""},
	{"delete", netAPI, "servicecidrs", "", "kubernetes", ""},
}

// allowedAs asks a SubjectAccessReview for the ServiceAccount.
func allowedAs(ctx context.Context, a access) (bool, error) {
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:   deploy.ServiceAccountUser,
		Groups: deploy.ServiceAccountGroups,
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Verb: a.verb, Group: a.group, Resource: a.resource, Subresource: a.subresource, Name: a.name, Namespace: a.namespace,
		},
	}}
	got, err := cp.Client().AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
	if err != nil {
		return false, err
	}
	return got.Status.Allowed, nil
}

// checkMatrix waits (bindings reach the authorizer a moment after they are written) until
// every question is answered as expected, then reports each that is not.
func checkMatrix(t *testing.T, stage string, want map[access]bool) {
	t.Helper()
	ctx := context.Background()
	var wrong []string
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 15*time.Second, true, func(ctx context.Context) (bool, error) {
		var now []string
		for a, allowed := range want {
			got, err := allowedAs(ctx, a)
			if err != nil {
				return false, nil // the poll's deadline, or a transient error: ask again
			}
			if got != allowed {
				now = append(now, fmt.Sprintf("%s: allowed=%v, want %v", a, got, allowed))
			}
		}
		wrong = now // only a complete round is reported
		return len(wrong) == 0, nil
	})
	if err != nil {
		t.Errorf("%s: %d answers wrong for %s:\n  %s", stage, len(wrong), deploy.ServiceAccountUser, strings.Join(wrong, "\n  "))
	}
}

func matrix(allowed [][]access, denied [][]access) map[access]bool {
	m := map[access]bool{}
	for _, set := range denied {
		for _, a := range set {
			m[a] = false
		}
	}
	for _, set := range allowed {
		for _, a := range set {
			m[a] = true
		}
	}
	return m
}

// TestLeastPrivilege applies the base, then the example with both components, and checks
// with SubjectAccessReviews that the ServiceAccount may do exactly what the enabled
// controllers do.
func TestLeastPrivilege(t *testing.T) {
	base, err := load("base")
	if err != nil {
		t.Fatal(err)
	}
	example, err := load("example")
	if err != nil {
		t.Fatal(err)
	}
	// Start from the base alone, whatever other tests applied.
	remove(t, componentsOnly(base, example))
	apply(t, base)
	checkMatrix(t, "base", matrix(
		[][]access{baseRights},
		[][]access{servingRights, tokenCleanerRights, neverRights}))

	apply(t, example)
	checkMatrix(t, "example (base + servingapproving + tokencleaner)", matrix(
		[][]access{baseRights, servingRights, tokenCleanerRights},
		[][]access{neverRights}))
}

// componentsOnly are the objects of example that base lacks.
func componentsOnly(base, example []*unstructured.Unstructured) []*unstructured.Unstructured {
	var extra []*unstructured.Unstructured
	for _, e := range example {
		if !slices.ContainsFunc(base, func(b *unstructured.Unstructured) bool { return describe(b) == describe(e) }) {
			extra = append(extra, e)
		}
	}
	return extra
}
