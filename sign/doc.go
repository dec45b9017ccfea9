// Package sign owns issuing certificates for approved CSRs: loading CAs (one shared or one
// per signer), the per-signer validation and duration rules of kube-controller-manager,
// the signing controller and the CSR cleaner.
package sign
