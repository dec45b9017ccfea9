// Package kubeconfig owns the kubeconfig files of the bootstrap: the bootstrap kubeconfig
// (server, CA, token) and the node kubeconfig pointing at the cert-dir's current
// certificate; checking that one is usable; and writing them atomically with mode 0600.
package kubeconfig
