package node

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/tlsbootstrap/tlsbootstrap/rotate"
)

// Causes a caller can test with errors.Is.
var (
	// ErrTokenRejected: the API server answered 401 to the bootstrap credentials.
	// The node cannot read its token's Secret, so the message lists every cause the API
	// server's authenticator has; an admin finds the one with token.Get or tokenctl list.
	ErrTokenRejected = errors.New("the API server rejected the bootstrap credentials (401 Unauthorized): " +
		"the bootstrap token is unknown or its secret is wrong, it has expired, it lacks usage-bootstrap-authentication, " +
		"its auth-extra-groups holds an invalid group, or its Secret is malformed (type, token-id, token-secret); " +
		"create a new token and bootstrap kubeconfig")
	// ErrCAMismatch: the API server's certificate does not verify against the CA of the
	// bootstrap kubeconfig.
	ErrCAMismatch = errors.New("the API server's certificate is not signed by the CA in the bootstrap kubeconfig (CA mismatch): fix certificate-authority(-data) in the bootstrap kubeconfig")
	// ErrForbidden: RBAC does not allow the bootstrap identity to create CSRs.
	ErrForbidden = errors.New("the bootstrap identity may not create CertificateSigningRequests: bind ClusterRole system:node-bootstrapper to its group (e.g. system:bootstrappers)")
)

// explain wraps err with the cause a person can act on, keeping the original error.
func explain(err error, doing string) error {
	if err == nil {
		return nil
	}
	var unknownAuthority x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknownAuthority):
		return fmt.Errorf("%s: %w: %v", doing, ErrCAMismatch, err)
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired,
		strings.Contains(err.Error(), "certificate has expired or is not yet valid"):
		return fmt.Errorf("%s: %w: a certificate is outside its validity period by this machine's clock; check the clock on this node and the API server: %v", doing, rotate.ErrClockSkew, err)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("%s: %w", doing, ErrTokenRejected)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s: %w: %v", doing, ErrForbidden, err)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// permanent reports whether retrying cannot help.
func permanent(err error) bool {
	return errors.Is(err, ErrTokenRejected) || errors.Is(err, ErrCAMismatch) ||
		errors.Is(err, rotate.ErrClockSkew) || errors.Is(err, ErrForbidden)
}
