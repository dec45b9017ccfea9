package deploy

import "embed"

// Manifests holds the kustomize base, the components and the example installation, with
// paths as in this directory (e.g. "base/kustomization.yaml").
//
//go:embed base components example/kustomization.yaml
var Manifests embed.FS

// The names the manifests use, for programs and tests that refer to them.
const (
	// Namespace the controller runs in.
	Namespace = "tlsbootstrap-system"
	// serviceAccount the controller runs as.
	serviceAccount = "csr-controller"
	// caSecret is the kubernetes.io/tls Secret holding the signing CA (tls.crt, tls.key).
	caSecret = "csr-controller-ca"
	// leaseName is the leader election Lease, in Namespace.
	leaseName = "csr-controller"
	// Image is the controller image the Deployment names; it must be built (see Dockerfile).
	Image = "ghcr.io/tlsbootstrap/csr-controller:dev"
)

// serviceAccountUser is the user name the controller's serviceAccount authenticates as.
const serviceAccountUser = "system:serviceaccount:" + Namespace + ":" + serviceAccount

// serviceAccountGroups are the groups the API server gives the serviceAccount's tokens.
var serviceAccountGroups = []string{"system:serviceaccounts", "system:serviceaccounts:" + Namespace, "system:authenticated"}
