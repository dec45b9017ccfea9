package deploy

import "embed"

// manifestFS holds the kustomize base, the components, the alert rules and the example installation, with
// paths as in this directory (e.g. "base/kustomization.yaml").
//
//go:embed base components alerts example/kustomization.yaml
var manifestFS embed.FS

// The names the manifests use, for programs and tests that refer to them.
const (
	// controllerNamespace is the namespace the controller runs in.
	controllerNamespace = "tlsbootstrap-system"
	// serviceAccount the controller runs as.
	serviceAccount = "csr-controller"
	// caSecret is the kubernetes.io/tls Secret holding the signing CA (tls.crt, tls.key).
	caSecret = "csr-controller-ca"
	// leaseName is the leader election Lease, in controllerNamespace.
	leaseName = "csr-controller"
	// controllerImage is the controller image the Deployment names; it must be built (see Dockerfile).
	controllerImage = "ghcr.io/tlsbootstrap/csr-controller:dev"
)

// serviceAccountUser is the user name the controller's serviceAccount authenticates as.
const serviceAccountUser = "system:serviceaccount:" + controllerNamespace + ":" + serviceAccount

// serviceAccountGroups are the groups the API server gives the serviceAccount's tokens.
var serviceAccountGroups = []string{"system:serviceaccounts", "system:serviceaccounts:" + controllerNamespace, "system:authenticated"}
