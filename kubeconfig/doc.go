// Package kubeconfig owns the kubeconfig files of the bootstrap: the bootstrap kubeconfig
// (server, CA, token), either built from known values or discovered from a token, the
// server address and CA pins as kubeadm join does (Discover, over the primitives of package
// discovery); the node kubeconfig pointing at the cert-dir's current certificate; checking
// that one is usable; and writing them atomically with mode 0600.
package kubeconfig
