package sign_test

import (
	"testing"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

// FuzzParseCA: any certificate and key input gives a CA or an error, never a panic, and a
// CA it returns is usable.
func FuzzParseCA(f *testing.F) {
	for _, kt := range []csr.KeyType{csr.ECDSAP256, csr.RSA2048, csr.Ed25519} {
		ca, err := sign.NewSelfSignedCA(sign.SelfSignedOptions{KeyType: kt})
		if err != nil {
			f.Fatal(err)
		}
		keyPEM, err := ca.KeyPEM()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(ca.CertPEM(), keyPEM)
		f.Add(ca.CertPEM()[:len(ca.CertPEM())/2], keyPEM)
		f.Add(keyPEM, ca.CertPEM())
	}
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"), []byte("-----BEGIN EC PRIVATE KEY-----\n-----END EC PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, certPEM, keyPEM []byte) {
		ca, err := sign.ParseCA(certPEM, keyPEM)
		if err != nil {
			return
		}
		if ca.Cert == nil || ca.Key == nil || !ca.Cert.IsCA {
			t.Fatalf("ParseCA returned an unusable CA: %+v", ca)
		}
		if _, err := ca.KeyPEM(); err != nil {
			t.Fatalf("parsed key does not re-encode: %v", err)
		}
	})
}
