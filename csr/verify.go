package csr

import (
	"crypto"
	"fmt"
	"time"

	certutil "k8s.io/client-go/util/cert"
)

// VerifyIssued checks that certPEM (leaf first, as status.certificate holds it) answers
// the PEM request: the leaf certifies key's public key and carries the request's
// subject. name is only used in the *mismatchError.
func VerifyIssued(name string, certPEM, request []byte, key crypto.Signer) error {
	certs, err := certutil.ParseCertsPEM(certPEM)
	if err != nil {
		return &mismatchError{Name: name, Reason: fmt.Sprintf("certificate does not parse: %v", err)}
	}
	req, err := ParseRequestPEM(request)
	if err != nil {
		return &mismatchError{Name: name, Reason: err.Error()}
	}
	leaf := certs[0]
	pub, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return &mismatchError{Name: name, Reason: "the certificate is for another public key than ours"}
	}
	if got, want := leaf.Subject.String(), req.Subject.String(); got != want {
		return &mismatchError{Name: name, Reason: fmt.Sprintf("certificate subject is %q, requested %q", got, want)}
	}
	return nil
}

// Backdate is how far signers put a certificate's NotBefore before the moment they sign
// (kube-controller-manager's signer and package sign: 5 minutes), so that a machine whose
// clock is behind the signer's by less than that still finds a fresh certificate valid.
const Backdate = 5 * time.Minute
