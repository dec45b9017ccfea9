package csr

import (
	"context"
	"crypto"
	"errors"

	"k8s.io/client-go/kubernetes"
)

// RequestSpec is a whole certificate request: the CSR to submit and the private key
// that signed Spec.Request.
type RequestSpec struct {
	Spec
	Key crypto.Signer
}

// Request submits the CSR (reusing a compatible existing one, see Submit), waits for its
// certificate (as Wait does, watching from Submit's answer; bound it with ctx) and
// verifies it (see VerifyIssued). It returns the certificate PEM and the CSR's name, the
// name also on failure once known.
func Request(ctx context.Context, client kubernetes.Interface, spec RequestSpec) (certPEM []byte, csrName string, err error) {
	if spec.Key == nil {
		return nil, spec.Name, errors.New("certificate request: no private key")
	}
	obj, err := Submit(ctx, client, New(spec.Spec), spec.Key)
	if err != nil {
		return nil, spec.Name, err
	}
	certPEM, err = waitFrom(ctx, client, obj)
	if err != nil {
		return nil, obj.Name, err
	}
	if err := VerifyIssued(obj.Name, certPEM, obj.Spec.Request, spec.Key); err != nil {
		return nil, obj.Name, err
	}
	return certPEM, obj.Name, nil
}
