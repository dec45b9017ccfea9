package rbac

import (
	"context"
	"errors"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Apply makes the cluster hold p's objects: missing ones are created, drifted ones (rules,
// aggregation, subjects, role reference or the preset's labels) are put back, others are
// left untouched, so applying twice writes nothing the second time. Labels and
// annotations added by others are kept. A binding whose roleRef changed is deleted and
// re-created, since roleRef cannot be updated.
func Apply(ctx context.Context, client kubernetes.Interface, p Preset) error {
	for i := range p.ClusterRoles {
		if err := applyClusterRole(ctx, client, &p.ClusterRoles[i]); err != nil {
			return fmt.Errorf("applying preset %s: %w", p.Name, err)
		}
	}
	for i := range p.ClusterRoleBindings {
		if err := applyClusterRoleBinding(ctx, client, &p.ClusterRoleBindings[i]); err != nil {
			return fmt.Errorf("applying preset %s: %w", p.Name, err)
		}
	}
	return nil
}

func applyClusterRole(ctx context.Context, client kubernetes.Interface, want *rbacv1.ClusterRole) error {
	roles := client.RbacV1().ClusterRoles()
	have, err := roles.Get(ctx, want.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		if _, err := roles.Create(ctx, want.DeepCopy(), metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating ClusterRole %s: %w", want.Name, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("getting ClusterRole %s: %w", want.Name, err)
	}
	update := have.DeepCopy()
	update.Labels = withLabels(update.Labels, want.Labels)
	update.Rules = want.Rules
	update.AggregationRule = want.AggregationRule
	if equality.Semantic.DeepEqual(have, update) {
		return nil
	}
	if _, err := roles.Update(ctx, update, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("repairing ClusterRole %s: %w", want.Name, err)
	}
	return nil
}

func applyClusterRoleBinding(ctx context.Context, client kubernetes.Interface, want *rbacv1.ClusterRoleBinding) error {
	bindings := client.RbacV1().ClusterRoleBindings()
	have, err := bindings.Get(ctx, want.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		if _, err := bindings.Create(ctx, want.DeepCopy(), metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating ClusterRoleBinding %s: %w", want.Name, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("getting ClusterRoleBinding %s: %w", want.Name, err)
	}
	if have.RoleRef != want.RoleRef {
		// roleRef is immutable: replace the binding, but only the one we looked at.
		uid := have.UID
		err := bindings.Delete(ctx, want.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("replacing ClusterRoleBinding %s (roleRef %s, want %s): %w", want.Name, have.RoleRef.Name, want.RoleRef.Name, err)
		}
		replacement := want.DeepCopy()
		replacement.Labels = withLabels(have.Labels, want.Labels)
		replacement.Annotations = have.Annotations
		if _, err := bindings.Create(ctx, replacement, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("re-creating ClusterRoleBinding %s: %w", want.Name, err)
		}
		return nil
	}
	update := have.DeepCopy()
	update.Labels = withLabels(update.Labels, want.Labels)
	update.Subjects = want.Subjects
	if equality.Semantic.DeepEqual(have, update) {
		return nil
	}
	if _, err := bindings.Update(ctx, update, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("repairing ClusterRoleBinding %s: %w", want.Name, err)
	}
	return nil
}

// withLabels returns have with want's labels set over it; have is not modified.
func withLabels(have, want map[string]string) map[string]string {
	if len(want) == 0 {
		return have
	}
	out := make(map[string]string, len(have)+len(want))
	for k, v := range have {
		out[k] = v
	}
	for k, v := range want {
		out[k] = v
	}
	return out
}

// Revoke deletes p's bindings, then its roles. Objects already gone are fine; the rights
// they granted are gone as soon as the authorizer sees the deletion. Every object is tried;
// the errors are joined.
func Revoke(ctx context.Context, client kubernetes.Interface, p Preset) error {
	var errs []error
	for _, b := range p.ClusterRoleBindings {
		err := client.RbacV1().ClusterRoleBindings().Delete(ctx, b.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting ClusterRoleBinding %s: %w", b.Name, err))
		}
	}
	for _, r := range p.ClusterRoles {
		err := client.RbacV1().ClusterRoles().Delete(ctx, r.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting ClusterRole %s: %w", r.Name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("revoking preset %s: %w", p.Name, err)
	}
	return nil
}
