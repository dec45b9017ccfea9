// Package controlplane starts a real kube-apiserver and etcd (through controller-runtime's
// envtest) configured the way a TLS-bootstrapping cluster is: bootstrap-token
// authentication, Node and RBAC authorization, the NodeRestriction admission plugin, and an
// optional static token file.
//
// The API server trusts one cluster CA for client certificates. The same CA signs the
// admin's certificate and is handed to signers under test, so certificates they issue
// authenticate exactly as they would on a real cluster.
//
// It is used by tests (through internal/testenv), by the quickstart and by the conformance
// runner. The binaries come from KUBEBUILDER_ASSETS, bin/k8s/<version> (make assets; make
// demo-assets builds etcd and kube-apiserver only), or the cache folder cmd/tlsbootstrap-assets
// fills.
package controlplane
