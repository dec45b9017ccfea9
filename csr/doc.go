// Package csr owns what a node does to request a certificate: private keys, x509
// certificate requests, certificates.k8s.io/v1 CertificateSigningRequest objects with the
// kubelet's deterministic names, submitting them and waiting for the signed certificate.
//
// A node bootstraps with NodeClientSpec (key, request, usages, signer and the kubelet's
// node-csr-<digest> name) and Request, which submits (reusing a compatible CSR left by an
// earlier attempt), waits by watch and verifies the issued certificate against the key
// and subject. A 401 or 403 while waiting is retried for AuthRetryGrace, since a restarted
// API server answers so until its caches are filled. download fetches an issued
// certificate by name. Failures are typed: *DeniedError, *FailedError, *deletedError,
// *uidChangedError, *WaitError, *IncompatibleError, *mismatchError, *notIssuedError.
//
// ParseRequestPEM and the Validate* rules are shared with the approver and the signer.
package csr
