// Package clustertest starts a real kube-apiserver and etcd for the tests of programs that
// import tlsbootstrap: the control plane this project tests itself on, with bootstrap-token
// authentication, Node and RBAC authorization and the NodeRestriction admission plugin, so
// tokens, bindings, SubjectAccessReviews and CSR validation are the real thing.
//
// The API server trusts, besides a CA of its own (whose client certificates its admin
// config uses), the client CAs the caller gives: certificates the caller's signer issues
// then authenticate, and the caller's CA key is never needed.
//
// It runs two binaries, etcd and kube-apiserver. They come from KUBEBUILDER_ASSETS (the
// envtest convention), this repository's bin/k8s/<version> (make demo-assets or make
// assets), or the cache folder that
//
//	go run github.com/tlsbootstrap/tlsbootstrap/cmd/tlsbootstrap-assets@latest etcd kube-apiserver
//
// fills (without names it builds kube-controller-manager and kubelet-bootstrap too); when
// none has them, Start's error names that command.
package clustertest
