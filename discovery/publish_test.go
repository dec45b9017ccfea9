package discovery_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/discovery"
)

func TestPublishClusterInfoAnonymousAccess(t *testing.T) {
	ctx := context.Background()
	admin := cp.Client()
	// Start from a cluster without the reader Role, whatever ran before.
	_ = admin.RbacV1().RoleBindings(discovery.Namespace).Delete(ctx, discovery.ReaderRoleName, metav1.DeleteOptions{})
	_ = admin.RbacV1().Roles(discovery.Namespace).Delete(ctx, discovery.ReaderRoleName, metav1.DeleteOptions{})
	other := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "not-cluster-info", Namespace: discovery.Namespace}}
	if _, err := admin.CoreV1().ConfigMaps(discovery.Namespace).Create(ctx, other, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	anonymous := kubernetes.NewForConfigOrDie(cp.AnonymousConfig())
	getClusterInfo := func() error {
		_, err := anonymous.CoreV1().ConfigMaps(discovery.Namespace).Get(ctx, discovery.ConfigMapName, metav1.GetOptions{})
		return err
	}
	eventually(t, 10*time.Second, func() string {
		if err := getClusterInfo(); !apierrors.IsForbidden(err) && !apierrors.IsNotFound(err) {
			return fmt.Sprintf("anonymous get before publishing: %v, want forbidden", err)
		}
		return ""
	})

	publish(t)
	eventually(t, 10*time.Second, func() string {
		if err := getClusterInfo(); err != nil {
			return fmt.Sprintf("anonymous get after publishing: %v", err)
		}
		return ""
	})
	cm, err := anonymous.CoreV1().ConfigMaps(discovery.Namespace).Get(ctx, discovery.ConfigMapName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := discovery.ParseClusterInfo([]byte(cm.Data[discovery.KubeconfigKey]))
	if err != nil {
		t.Fatal(err)
	}
	if info.Server != cp.Host() || string(info.CAData) != string(cp.ServingCAPEM()) {
		t.Errorf("published server %s and CA %q, want %s and the serving CA", info.Server, info.CAData, cp.Host())
	}

	// Real anonymous requests: only that one ConfigMap, only get.
	denied := map[string]func() error{
		"get another ConfigMap in kube-public": func() error {
			_, err := anonymous.CoreV1().ConfigMaps(discovery.Namespace).Get(ctx, other.Name, metav1.GetOptions{})
			return err
		},
		"list ConfigMaps in kube-public": func() error {
			_, err := anonymous.CoreV1().ConfigMaps(discovery.Namespace).List(ctx, metav1.ListOptions{})
			return err
		},
		"update cluster-info": func() error {
			_, err := anonymous.CoreV1().ConfigMaps(discovery.Namespace).Update(ctx, cm, metav1.UpdateOptions{})
			return err
		},
		"list Secrets in kube-system": func() error {
			_, err := anonymous.CoreV1().Secrets("kube-system").List(ctx, metav1.ListOptions{})
			return err
		},
	}
	for name, call := range denied {
		if err := call(); !apierrors.IsForbidden(err) {
			t.Errorf("anonymous %s: %v, want forbidden", name, err)
		}
	}

	// The same through SubjectAccessReviews for system:anonymous.
	sar := []struct {
		verb, name string
		allowed    bool
	}{
		{"get", discovery.ConfigMapName, true},
		{"update", discovery.ConfigMapName, false},
		{"delete", discovery.ConfigMapName, false},
		{"get", other.Name, false},
		{"list", "", false},
	}
	for _, c := range sar {
		review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: discovery.AnonymousUser, Groups: []string{"system:unauthenticated"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: discovery.Namespace, Verb: c.verb, Resource: "configmaps", Name: c.name,
			},
		}}
		got, err := admin.AuthorizationV1().SubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status.Allowed != c.allowed {
			t.Errorf("SAR anonymous %s configmaps/%q: allowed=%v, want %v (%s)", c.verb, c.name, got.Status.Allowed, c.allowed, got.Status.Reason)
		}
	}
}

func TestPublishClusterInfoIsIdempotentAndRepairs(t *testing.T) {
	ctx := context.Background()
	admin := cp.Client()
	publish(t)
	versions := func() [3]string {
		cm := clusterInfo(t)
		role, err := admin.RbacV1().Roles(discovery.Namespace).Get(ctx, discovery.ReaderRoleName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		binding, err := admin.RbacV1().RoleBindings(discovery.Namespace).Get(ctx, discovery.ReaderRoleName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return [3]string{cm.ResourceVersion, role.ResourceVersion, binding.ResourceVersion}
	}
	first := versions()
	publish(t)
	if again := versions(); again != first {
		t.Errorf("second publish wrote objects: resource versions %v, then %v", first, again)
	}

	// Drift: a wider Role and an extra subject are put back.
	role, err := admin.RbacV1().Roles(discovery.Namespace).Get(ctx, discovery.ReaderRoleName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	role.Rules[0].Verbs = append(role.Rules[0].Verbs, "list")
	role.Rules[0].ResourceNames = nil
	if _, err := admin.RbacV1().Roles(discovery.Namespace).Update(ctx, role, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding, err := admin.RbacV1().RoleBindings(discovery.Namespace).Get(ctx, discovery.ReaderRoleName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	binding.Subjects = append(binding.Subjects, binding.Subjects[0])
	binding.Subjects[1].Name = "system:unauthenticated"
	binding.Subjects[1].Kind = "Group"
	if _, err := admin.RbacV1().RoleBindings(discovery.Namespace).Update(ctx, binding, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	publish(t)
	role, err = admin.RbacV1().Roles(discovery.Namespace).Get(ctx, discovery.ReaderRoleName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r := role.Rules; len(r) != 1 || len(r[0].Verbs) != 1 || r[0].Verbs[0] != "get" || len(r[0].ResourceNames) != 1 || r[0].ResourceNames[0] != discovery.ConfigMapName {
		t.Errorf("Role not repaired: %+v", role.Rules)
	}
	binding, err = admin.RbacV1().RoleBindings(discovery.Namespace).Get(ctx, discovery.ReaderRoleName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s := binding.Subjects; len(s) != 1 || s[0].Name != discovery.AnonymousUser || s[0].Kind != "User" {
		t.Errorf("RoleBinding not repaired: %+v", binding.Subjects)
	}

	// A new server is published; other keys (signatures) are kept for the signer to redo.
	cm := clusterInfo(t)
	cm.Data[discovery.SignatureKey("keepme")] = "x..y"
	if _, err := admin.CoreV1().ConfigMaps(discovery.Namespace).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { publish(t) })
	if err := discovery.PublishClusterInfo(ctx, admin, "https://lb.example:6443", cp.ServingCAPEM()); err != nil {
		t.Fatal(err)
	}
	cm = clusterInfo(t)
	info, err := discovery.ParseClusterInfo([]byte(cm.Data[discovery.KubeconfigKey]))
	if err != nil {
		t.Fatal(err)
	}
	if info.Server != "https://lb.example:6443" {
		t.Errorf("server = %s after re-publishing", info.Server)
	}
	if cm.Data[discovery.SignatureKey("keepme")] != "x..y" {
		t.Errorf("publishing dropped other keys: %v", cm.Data)
	}
	delete(cm.Data, discovery.SignatureKey("keepme"))
	if _, err := admin.CoreV1().ConfigMaps(discovery.Namespace).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestPublishClusterInfoRejectsBadInput(t *testing.T) {
	tests := []struct{ name, server, ca string }{
		{"no server", "", string(cp.ServingCAPEM())},
		{"no CA", cp.Host(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := discovery.PublishClusterInfo(context.Background(), cp.Client(), tt.server, []byte(tt.ca)); err == nil {
				t.Fatal("PublishClusterInfo succeeded")
			}
		})
	}
}
