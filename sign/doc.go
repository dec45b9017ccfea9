// Package sign owns issuing certificates for approved CSRs: loading CAs (one shared or one
// per signer), the per-signer validation and duration rules of kube-controller-manager,
// as functions and a Signer. controller.Run runs a Signer as kube-controller-manager's
// csrsigning controller does; the CSR cleaner is package csrcleaner.
//
// The pieces, from the bottom up:
//   - CA, LoadCA, ParseCA, NewSelfSignedCA: a CA certificate and its key from PEM (RSA,
//     ECDSA or Ed25519); FileCA reloads the files when they change (a CAProvider).
//   - Issue, Validity: the issuance rules of
//     kube-controller-manager's csrsigning, as pure functions.
//   - Signer: decides whether a CSR is to be signed (approved, not denied or failed,
//     unissued, a signer it serves), signs it and writes status.certificate, or condition
//     Failed with reason SignerValidationFailure. Writes carry the resourceVersion, so a
//     CSR is never signed twice.
//   - SignerPolicy (SignerOptions.CustomSigners): signer names of your own, each with its own CA,
//     allowed usages, maximum duration and allowed DNS suffixes / IP ranges for
//     subjectAltNames; a request outside the policy is Failed with a message naming the
//     offending usage or subjectAltName. LoadSignerPolicies reads them from a YAML file.
package sign
