// Package deploy holds the Kubernetes manifests that run the csr-controller
// (examples/csr-controller) in a cluster, as a kustomize base with optional components,
// and embeds them for Go programs that install the controller themselves.
//
//   - base/: namespace tlsbootstrap-system, serviceAccount csr-controller, a ClusterRole with
//     exactly the rights of csrapproving, csrsigning and csrcleaner (approve on the kubelet
//     client signer, sign on the two kubelet signers, SubjectAccessReviews, CSR read,
//     delete and /approval, /status updates), Roles for the leader election Lease (own
//     namespace) and for Events (namespace default, where Events about cluster-scoped
//     CSRs go), a Deployment of 2 replicas with leader election, probes, resource
//     requests and the CA mounted from the Secret csr-controller-ca, and a metrics Service.
//   - components/servingapproving and components/tokencleaner: each adds its controller to
//     the Deployment's --controllers and the rights it needs (Nodes read and approve on the
//     kubelet-serving signer; Secrets in kube-system only, through a Role).
//   - components/trustpublisher: publishes the CA of the Deployment's two kubelet signers
//     as their ClusterTrustBundles and as ConfigMaps in every namespace (attest on those
//     signers; ClusterTrustBundles; the ConfigMaps of those names only, but create; Namespaces
//     list and watch). Not in the example: add it to the components of a kustomization.
//   - example/: an installation with the servingapproving and tokencleaner components and
//     the CA Secret generated from ca.crt and ca.key next to it.
//
// The image ghcr.io/tlsbootstrap/csr-controller:dev is not published: build it with the
// Dockerfile here (docker build -f deploy/Dockerfile .) and push it where the cluster pulls.
package deploy
