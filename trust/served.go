package trust

import (
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
)

// ClusterTrustBundleAPI is the API version Publish writes ClusterTrustBundles with.
const ClusterTrustBundleAPI = "certificates.k8s.io/v1"

// ServesClusterTrustBundles asks the API server's discovery whether it serves
// ClusterTrustBundles at ClusterTrustBundleAPI. When it does not (Kubernetes before 1.37, or
// the API turned off), reason says so in one line, naming the versions it serves them at,
// if any, and what to do.
func ServesClusterTrustBundles(d discovery.DiscoveryInterface) (served bool, reason string, err error) {
	groups, err := d.ServerGroups()
	if err != nil {
		return false, "", fmt.Errorf("discovering the API server's groups: %w", err)
	}
	var at []string
	for _, g := range groups.Groups {
		if g.Name != "certificates.k8s.io" {
			continue
		}
		for _, v := range g.Versions {
			resources, err := d.ServerResourcesForGroupVersion(v.GroupVersion)
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				return false, "", fmt.Errorf("discovering %s: %w", v.GroupVersion, err)
			}
			if slices.ContainsFunc(resources.APIResources, func(r metav1.APIResource) bool { return r.Name == "clustertrustbundles" }) {
				at = append(at, v.GroupVersion)
			}
		}
	}
	if slices.Contains(at, ClusterTrustBundleAPI) {
		return true, "", nil
	}
	where := "at no version"
	if len(at) > 0 {
		where = "only at " + strings.Join(at, ", ")
	}
	return false, fmt.Sprintf("the API server serves ClusterTrustBundles %s, not at %s (Kubernetes 1.37 and later serve it by default)",
		where, ClusterTrustBundleAPI), nil
}
