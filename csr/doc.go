// Package csr owns what a node does to request a certificate: private keys, x509
// certificate requests, certificates.k8s.io/v1 CertificateSigningRequest objects with the
// kubelet's deterministic names, submitting them and waiting for the signed certificate.
package csr
