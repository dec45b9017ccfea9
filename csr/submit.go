package csr

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	certutil "k8s.io/client-go/util/cert"
)

// Submit creates obj. When an object of that name already exists (a retried bootstrap
// with the same key and NodeCSRName), it is reused if compatibleWith with obj and key, and
// an *IncompatibleError is returned otherwise. Errors from the server keep their
// apierrors status (errors.As / apierrors.IsForbidden work on them).
func Submit(ctx context.Context, client kubernetes.Interface, obj *certificatesv1.CertificateSigningRequest, key crypto.Signer) (*certificatesv1.CertificateSigningRequest, error) {
	if obj == nil {
		return nil, errors.New("submitting CertificateSigningRequest: no object")
	}
	if key == nil {
		return nil, fmt.Errorf("submitting CertificateSigningRequest %q: no private key", obj.Name)
	}
	api := client.CertificatesV1().CertificateSigningRequests()
	created, err := api.Create(ctx, obj, metav1.CreateOptions{})
	if err == nil {
		return created, nil
	}
	if !apierrors.IsAlreadyExists(err) || obj.Name == "" {
		return nil, fmt.Errorf("creating CertificateSigningRequest %q: %w", displayName(obj), err)
	}
	existing, err := api.Get(ctx, obj.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("CertificateSigningRequest %q already exists; reading it: %w", obj.Name, err)
	}
	if err := compatibleWith(existing, obj, key, time.Now()); err != nil {
		return nil, err
	}
	return existing, nil
}

// compatibleWith reports whether existing, found under the name we wanted, can stand for
// wanted: its request verifies, has the same subject and was signed by key, it has the
// same signer and usages, and any certificate it holds has not expired at now. The
// error is an *IncompatibleError naming the first difference.
func compatibleWith(existing, wanted *certificatesv1.CertificateSigningRequest, key crypto.Signer, now time.Time) error {
	bad := func(format string, args ...any) error {
		return &IncompatibleError{Name: existing.Name, Reason: fmt.Sprintf(format, args...)}
	}
	have, err := ParseRequestPEM(existing.Spec.Request)
	if err != nil {
		return bad("its %v", err)
	}
	want, err := ParseRequestPEM(wanted.Spec.Request)
	if err != nil {
		return bad("the new %v", err)
	}
	if have.Subject.String() != want.Subject.String() {
		return bad("subject is %q, want %q", have.Subject.String(), want.Subject.String())
	}
	if existing.Spec.SignerName != wanted.Spec.SignerName {
		return bad("signer is %q, want %q", existing.Spec.SignerName, wanted.Spec.SignerName)
	}
	if !sameSet(existing.Spec.Usages, wanted.Spec.Usages) {
		return bad("usages are %q, want %q", existing.Spec.Usages, wanted.Spec.Usages)
	}
	pub, ok := have.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return bad("its request was signed by another private key")
	}
	if len(existing.Status.Certificate) > 0 {
		certs, err := certutil.ParseCertsPEM(existing.Status.Certificate)
		if err != nil {
			return bad("its certificate does not parse: %v", err)
		}
		for _, c := range certs {
			if now.After(c.NotAfter) {
				return bad("its certificate expired at %s", c.NotAfter.UTC().Format(time.RFC3339))
			}
		}
	}
	return nil
}

func displayName(obj *certificatesv1.CertificateSigningRequest) string {
	if obj.Name != "" {
		return obj.Name
	}
	return obj.GenerateName + "*"
}
