package approve

import (
	"context"
	"errors"
	"fmt"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// Defaults for manual decisions made with an empty reason or message.
const (
	defaultManualApproveReason  = "ManuallyApproved"
	defaultManualApproveMessage = "This CSR was approved manually."
	defaultManualDenyReason     = "ManuallyDenied"
	defaultManualDenyMessage    = "This CSR was denied manually."
)

// ErrAlreadyDecided is returned (wrapped) by Approve on a denied CSR and by Deny on an
// approved one: the API server never removes either condition.
var ErrAlreadyDecided = errors.New("CSR is already decided the other way")

// Approve approves the named CSR as `kubectl certificate approve` does: it adds condition
// Approved/True with reason and message (defaults when empty) through /approval,
// re-reading and retrying on conflict. An already approved CSR is left as it is; a denied
// one is an error wrapping ErrAlreadyDecided. The caller needs update on
// certificatesigningrequests/approval and approve on the CSR's signer.
func Approve(ctx context.Context, client kubernetes.Interface, name, reason, message string) error {
	return decideManually(ctx, client, name, certificatesv1.CertificateApproved, certificatesv1.CertificateDenied,
		orDefault(reason, defaultManualApproveReason), orDefault(message, defaultManualApproveMessage))
}

// Deny denies the named CSR as `kubectl certificate deny` does; see Approve.
func Deny(ctx context.Context, client kubernetes.Interface, name, reason, message string) error {
	return decideManually(ctx, client, name, certificatesv1.CertificateDenied, certificatesv1.CertificateApproved,
		orDefault(reason, defaultManualDenyReason), orDefault(message, defaultManualDenyMessage))
}

func decideManually(ctx context.Context, client kubernetes.Interface, name string, want, opposite certificatesv1.RequestConditionType, reason, message string) error {
	if name == "" {
		return errors.New("CSR name is empty")
	}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj, err := client.CertificatesV1().CertificateSigningRequests().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if csr.Condition(obj, want) != nil {
			return nil
		}
		if c := csr.Condition(obj, opposite); c != nil {
			return fmt.Errorf("CSR %q: %w (%s: %s)", name, ErrAlreadyDecided, c.Reason, c.Message)
		}
		now := metav1.Now()
		obj.Status.Conditions = append(obj.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
			Type: want, Status: corev1.ConditionTrue, Reason: reason, Message: message,
			LastUpdateTime: now, LastTransitionTime: now,
		})
		_, err = client.CertificatesV1().CertificateSigningRequests().UpdateApproval(ctx, name, obj, metav1.UpdateOptions{})
		return err
	})
	if err != nil && !errors.Is(err, ErrAlreadyDecided) {
		return fmt.Errorf("setting %s on CSR %q: %w", want, name, err)
	}
	return err
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
