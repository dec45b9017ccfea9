package csr

import (
	"crypto"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"

	certificatesv1 "k8s.io/api/certificates/v1"
)

// NodeCSRNamePrefix starts every name NodeCSRName computes.
const NodeCSRNamePrefix = "node-csr-"

// NodeCSRName is the kubelet's deterministic CSR name, so that a retried bootstrap finds
// the CSR it already created: "node-csr-" + unpadded base64url of a SHA-512/256 digest
// over the PKIX public key, the CN, each O and each usage (in order), each field written
// as unpadded base64url followed by "|" (a byte outside that alphabet, so that no two
// different inputs write the same stream).
func NodeCSRName(pub crypto.PublicKey, subject pkix.Name, usages []certificatesv1.KeyUsage) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("CSR name: encoding public key: %w", err)
	}
	enc := base64.RawURLEncoding
	h := sha512.New512_256()
	field := func(b []byte) {
		h.Write([]byte(enc.EncodeToString(b)))
		h.Write([]byte{'|'})
	}
	field(der)
	field([]byte(subject.CommonName))
	for _, o := range subject.Organization {
		field([]byte(o))
	}
	for _, u := range usages {
		field([]byte(u))
	}
	return NodeCSRNamePrefix + enc.EncodeToString(h.Sum(nil)), nil
}
