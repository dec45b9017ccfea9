package tokenctl

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/clientcmd"
)

// explain rewrites an error from talking to the API server at host so that its one line
// says what kind of failure it is: nothing answering, rejected credentials, or missing
// rights (the server's message names the user, verb and resource).
func explain(err error, host string) error {
	var anonymous *clusterInfoError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &anonymous):
		return err // an anonymous client's failure, not the kubeconfig's
	case clientcmd.IsEmptyConfig(err):
		return errors.New("no kubeconfig found: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config")
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("the API server at %s rejected the kubeconfig's credentials (401 Unauthorized): %w", host, err)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("forbidden: %w", err)
	case isTransportError(err):
		return fmt.Errorf("no API server reachable at %s: %w", host, err)
	}
	return err
}

// isTransportError reports whether err came from the HTTP transport (connection refused,
// DNS, TLS, timeout) rather than from an answer of the server: client-go returns those as
// *url.Error, and answers as API status errors.
func isTransportError(err error) bool {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return false
	}
	var uerr *url.Error
	return errors.As(err, &uerr)
}

// OneLine joins an error's lines and runs of spaces, so that it prints as one line.
func OneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
