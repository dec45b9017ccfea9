package discovery

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// ReaderRoleName names the Role and RoleBinding in Namespace that let anonymous users get
// cluster-info, as kubeadm names them.
const ReaderRoleName = "kubeadm:bootstrap-signer-clusterinfo"

// anonymousUser is the user name the API server gives unauthenticated requests.
const anonymousUser = "system:anonymous"

// PublishClusterInfo writes Namespace/ConfigMapName with a kubeconfig holding server and
// the CA bundle caPEM (the CA that verifies the API server's serving certificate), and the
// Role/RoleBinding ReaderRoleName that let system:anonymous get that ConfigMap and nothing
// else. It is idempotent: objects already as wanted are not written, and existing
// signatures are kept (the bootstrap signer re-signs when the kubeconfig changed).
func PublishClusterInfo(ctx context.Context, client kubernetes.Interface, server string, caPEM []byte) error {
	content, err := ClusterInfoKubeconfig(server, caPEM)
	if err != nil {
		return fmt.Errorf("publishing cluster-info: %w", err)
	}
	if err := applyConfigMap(ctx, client, content); err != nil {
		return fmt.Errorf("publishing cluster-info: %w", err)
	}
	if err := applyReaderRole(ctx, client); err != nil {
		return fmt.Errorf("publishing cluster-info: %w", err)
	}
	if err := applyReaderBinding(ctx, client); err != nil {
		return fmt.Errorf("publishing cluster-info: %w", err)
	}
	return nil
}

func applyConfigMap(ctx context.Context, client kubernetes.Interface, content []byte) error {
	api := client.CoreV1().ConfigMaps(Namespace)
	have, err := api.Get(ctx, ConfigMapName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		cm := &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: ConfigMapName, Namespace: Namespace},
			Data:       map[string]string{KubeconfigKey: string(content)},
		}
		if _, err := api.Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating ConfigMap %s/%s: %w", Namespace, ConfigMapName, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("getting ConfigMap %s/%s: %w", Namespace, ConfigMapName, err)
	}
	if bytes.Equal([]byte(have.Data[KubeconfigKey]), content) {
		return nil
	}
	update := have.DeepCopy()
	if update.Data == nil {
		update.Data = map[string]string{}
	}
	update.Data[KubeconfigKey] = string(content)
	if _, err := api.Update(ctx, update, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("updating ConfigMap %s/%s: %w", Namespace, ConfigMapName, err)
	}
	return nil
}

// readerRules allow getting the one ConfigMap, by name.
func readerRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{{
		APIGroups:     []string{""},
		Resources:     []string{"configmaps"},
		ResourceNames: []string{ConfigMapName},
		Verbs:         []string{"get"},
	}}
}

func readerRef() rbacv1.RoleRef {
	return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: ReaderRoleName}
}

func readerSubjects() []rbacv1.Subject {
	return []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: anonymousUser}}
}

func applyReaderRole(ctx context.Context, client kubernetes.Interface) error {
	api := client.RbacV1().Roles(Namespace)
	have, err := api.Get(ctx, ReaderRoleName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: ReaderRoleName, Namespace: Namespace}, Rules: readerRules()}
		if _, err := api.Create(ctx, role, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating Role %s/%s: %w", Namespace, ReaderRoleName, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("getting Role %s/%s: %w", Namespace, ReaderRoleName, err)
	}
	if equality.Semantic.DeepEqual(have.Rules, readerRules()) {
		return nil
	}
	update := have.DeepCopy()
	update.Rules = readerRules()
	if _, err := api.Update(ctx, update, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("repairing Role %s/%s: %w", Namespace, ReaderRoleName, err)
	}
	return nil
}

func applyReaderBinding(ctx context.Context, client kubernetes.Interface) error {
	api := client.RbacV1().RoleBindings(Namespace)
	want := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: ReaderRoleName, Namespace: Namespace},
		RoleRef:    readerRef(),
		Subjects:   readerSubjects(),
	}
	have, err := api.Get(ctx, ReaderRoleName, metav1.GetOptions{})
	if err == nil && have.RoleRef != want.RoleRef {
		// roleRef is immutable: replace the binding we looked at.
		uid := have.UID
		err = api.Delete(ctx, ReaderRoleName, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("replacing RoleBinding %s/%s: %w", Namespace, ReaderRoleName, err)
		}
		err = apierrors.NewNotFound(rbacv1.Resource("rolebindings"), ReaderRoleName)
	}
	if apierrors.IsNotFound(err) {
		if _, err := api.Create(ctx, want, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating RoleBinding %s/%s: %w", Namespace, ReaderRoleName, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("getting RoleBinding %s/%s: %w", Namespace, ReaderRoleName, err)
	}
	if slices.Equal(have.Subjects, want.Subjects) {
		return nil
	}
	update := have.DeepCopy()
	update.Subjects = want.Subjects
	if _, err := api.Update(ctx, update, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("repairing RoleBinding %s/%s: %w", Namespace, ReaderRoleName, err)
	}
	return nil
}
