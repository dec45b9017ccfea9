// Package rbac owns the RBAC objects of the bootstrap flow: the kubeadm preset, the seed
// documents' roles and bindings, and a binding of system:node-bootstrapper; it applies them
// idempotently (repairing drift) and revokes them.
package rbac
