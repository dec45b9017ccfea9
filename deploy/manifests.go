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
	// ServiceAccount the controller runs as.
	ServiceAccount = "csr-controller"
	// CASecret is the kubernetes.io/tls Secret holding the signing CA (tls.crt, tls.key).
	CASecret = "csr-controller-ca"
	// LeaseName is the leader election Lease, in Namespace.
	LeaseName = "csr-controller"
	// Image is the controller image the Deployment names; it must be built (see Dockerfile).
	Image = "ghcr.io/tlsbootstrap/csr-controller:dev"
)

// ServiceAccountUser is the user name the controller's ServiceAccount authenticates as.
const ServiceAccountUser = "system:serviceaccount:" + Namespace + ":" + ServiceAccount

// ServiceAccountGroups are the groups the API server gives the ServiceAccount's tokens.
var ServiceAccountGroups = []string{"system:serviceaccounts", "system:serviceaccounts:" + Namespace, "system:authenticated"}
