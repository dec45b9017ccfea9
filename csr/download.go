package csr

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	certutil "k8s.io/client-go/util/cert"
)

// download returns the certificate PEM issued for the CSR name, like
// `kubectl get csr NAME -o jsonpath={.status.certificate} | base64 -d`. A CSR without a
// certificate gives *notIssuedError, a denied or failed one *DeniedError or *FailedError.
func download(ctx context.Context, client kubernetes.Interface, name string) ([]byte, error) {
	obj, err := client.CertificatesV1().CertificateSigningRequests().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading CertificateSigningRequest %q: %w", name, err)
	}
	cert, state, err := outcome(obj)
	if err != nil {
		return nil, err
	}
	if cert == nil {
		return nil, &notIssuedError{Name: name, State: state}
	}
	if _, err := certutil.ParseCertsPEM(cert); err != nil {
		return nil, fmt.Errorf("CertificateSigningRequest %q: status.certificate: %w", name, err)
	}
	return cert, nil
}
