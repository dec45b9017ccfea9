package approve

import (
	"context"
	"fmt"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Apply writes d to the CSR through the /approval subresource and returns the updated
// object. Approve adds condition Approved/True, Deny adds Denied/True, both with d.Reason
// and d.Message; Ignore writes nothing and returns obj unchanged. obj is not modified.
// A conflict error means the CSR changed since it was read: decide again on the newer one.
func (a *Approver) Apply(ctx context.Context, client kubernetes.Interface, obj *certificatesv1.CertificateSigningRequest, d Decision) (*certificatesv1.CertificateSigningRequest, error) {
	var condType certificatesv1.RequestConditionType
	switch d.Action {
	case ActionIgnore:
		return obj, nil
	case ActionApprove:
		condType = certificatesv1.CertificateApproved
	case ActionDeny:
		condType = certificatesv1.CertificateDenied
	default:
		return nil, fmt.Errorf("applying decision to CSR %q: unknown action %q", obj.Name, d.Action)
	}
	updated := obj.DeepCopy()
	now := metav1.NewTime(a.clock.Now())
	updated.Status.Conditions = append(updated.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
		Type:               condType,
		Status:             corev1.ConditionTrue,
		Reason:             d.Reason,
		Message:            d.Message,
		LastUpdateTime:     now,
		LastTransitionTime: now,
	})
	got, err := client.CertificatesV1().CertificateSigningRequests().UpdateApproval(ctx, obj.Name, updated, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("writing %s condition to CSR %q: %w", condType, obj.Name, err)
	}
	return got, nil
}
