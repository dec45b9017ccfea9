// Package node composes the node side of TLS bootstrapping, what a kubelet does before it
// can talk to the API server as itself: skip when the kubeconfig is already usable;
// otherwise wait for the API server, create (or reuse) a private key, submit a kubelet
// client CSR with the bootstrap credentials, wait for the certificate, store it in the
// cert-dir (crash-safe kubelet-client-current.pem) and write the node kubeconfig.
//
// Errors name what a person can fix: a rejected bootstrap token, a CA mismatch, clock skew,
// a missing RBAC binding, a denied CSR.
package node
