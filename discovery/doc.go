// Package discovery owns kubeadm-style cluster-info discovery, the part of joining where a
// node knows only a bootstrap token and the API server's address:
//
//   - the admin side: PublishClusterInfo writes kube-public/cluster-info (a kubeconfig with
//     the server and CA) and the Role/RoleBinding that let system:anonymous read that one
//     ConfigMap; Signer (and the one-shot SignClusterInfo) keep one jws-kubeconfig-<id>
//     detached signature in it per valid token with the signing usage, removing stale ones,
//     as kube-controller-manager's bootstrapsigner does;
//   - the primitives the node side needs: signJWS and Verify for the detached HS256 JWS keyed
//     by the token secret (through k8s.io/cluster-bootstrap/token/jws), Pin, ParsePins and
//     Pins.Check for `sha256:<hex>` pins of the CA's SubjectPublicKeyInfo, and
//     ParseClusterInfo for the published kubeconfig.
//
// The node-side flow that fetches, verifies and pins (kubeconfig.Discover) lives in package
// kubeconfig, which builds the resulting bootstrap kubeconfig; this package does not
// import it.
package discovery
