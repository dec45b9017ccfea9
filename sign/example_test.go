package sign_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"

	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

// A self-signed CA issues a kubelet client certificate for an approved request.
func ExampleIssue() {
	ca, err := sign.NewSelfSignedCA(sign.SelfSignedOptions{CommonName: "example-ca"})
	if err != nil {
		log.Fatal(err)
	}
	// The node's side: a key and a certificate request (normally made by package csr).
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "system:node:worker-1", Organization: []string{"system:nodes"}},
	}, key)
	seconds := int32(2 * 3600)
	req := &certificatesv1.CertificateSigningRequest{Spec: certificatesv1.CertificateSigningRequestSpec{
		Request:           pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}),
		SignerName:        certificatesv1.KubeAPIServerClientKubeletSignerName,
		Usages:            []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth},
		ExpirationSeconds: &seconds,
	}}

	certPEM, err := sign.Issue(ca, req, time.Now(), sign.DefaultSigningDuration)
	if err != nil {
		log.Fatal(err)
	}
	block, _ := pem.Decode(certPEM)
	cert, _ := x509.ParseCertificate(block.Bytes)
	fmt.Println(cert.Subject, cert.Issuer.CommonName, cert.IsCA, cert.NotAfter.Sub(cert.NotBefore))
	// Output: CN=system:node:worker-1,O=system:nodes example-ca false 2h5m0s
}
