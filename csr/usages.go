package csr

import (
	"crypto"
	"crypto/rsa"

	certificatesv1 "k8s.io/api/certificates/v1"
)

// NodeClientUsages are the usages the kubelet asks for its client certificate, in its
// order: digital signature, client auth, and key encipherment for an RSA key. The order
// matters: it is part of NodeCSRName's digest.
func NodeClientUsages(pub crypto.PublicKey) []certificatesv1.KeyUsage {
	usages := []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}
	if _, ok := pub.(*rsa.PublicKey); ok {
		usages = append(usages, certificatesv1.UsageKeyEncipherment)
	}
	return usages
}

// nodeServingUsages are the usages of a kubelet serving certificate: digital signature,
// server auth, and key encipherment for an RSA key.
func nodeServingUsages(pub crypto.PublicKey) []certificatesv1.KeyUsage {
	usages := []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth}
	if _, ok := pub.(*rsa.PublicKey); ok {
		usages = append(usages, certificatesv1.UsageKeyEncipherment)
	}
	return usages
}
