package csr_test

import (
	"crypto/x509/pkix"
	"strings"
	"testing"

	certificatesv1 "k8s.io/api/certificates/v1"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// vectorKeyPEM and vectorName come from the kubelet's bootstrap (pkg/kubelet/certificate/bootstrap): observed from the real kubelet
// v1.37.2 for node "vector-node" with usages [digital signature, client auth].
const vectorKeyPEM = `-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIO21ev3bDg1VvtYNsnVKvF2H1AI1QbBeQtjDwBAtmFj0oAoGCCqGSM49
AwEHoUQDQgAEEtNhK1t4tIB4x5WpI+x1OX7SIcPAR1rau54I7YN9FSCBU3C4JCow
BRjCKA+qBYzIaOvRldjgTFpNyMolN6kfXA==
-----END EC PRIVATE KEY-----
`

const vectorName = "node-csr-HMo0bw_HOZOirhUcsjfYdd0PIGdmeREM2p3nAIsNX-U"

func TestNodeCSRNameVector(t *testing.T) {
	key, err := csr.ParseKeyPEM([]byte(vectorKeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	usages := csr.NodeClientUsages(key.Public())
	got, err := csr.NodeCSRName(key.Public(), csr.NodeSubject("vector-node"), usages)
	if err != nil {
		t.Fatal(err)
	}
	if got != vectorName {
		t.Fatalf("NodeCSRName = %s, want %s", got, vectorName)
	}
	spec, err := csr.NodeClientSpec("vector-node", key, nil)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Name != vectorName {
		t.Fatalf("NodeClientSpec name = %s, want %s", spec.Name, vectorName)
	}
}

// Every input of the digest changes the name; the same input gives the same name.
func TestNodeCSRNameInputs(t *testing.T) {
	key, err := csr.ParseKeyPEM([]byte(vectorKeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	other, err := csr.GenerateKey(csr.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	ds, ca := certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth
	subject := csr.NodeSubject("vector-node")
	tests := []struct {
		name    string
		pub     any
		subject pkix.Name
		usages  []certificatesv1.KeyUsage
	}{
		{"other key", other.Public(), subject, []certificatesv1.KeyUsage{ds, ca}},
		{"other CN", key.Public(), csr.NodeSubject("vector-nod"), []certificatesv1.KeyUsage{ds, ca}},
		{"other O", key.Public(), pkix.Name{CommonName: subject.CommonName, Organization: []string{"system:node"}}, []certificatesv1.KeyUsage{ds, ca}},
		{"CN and O shifted", key.Public(), pkix.Name{CommonName: subject.CommonName + "s", Organization: []string{"ystem:nodes"}}, []certificatesv1.KeyUsage{ds, ca}},
		{"usage order", key.Public(), subject, []certificatesv1.KeyUsage{ca, ds}},
		{"extra usage", key.Public(), subject, []certificatesv1.KeyUsage{ds, ca, certificatesv1.UsageKeyEncipherment}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := csr.NodeCSRName(tc.pub, tc.subject, tc.usages)
			if err != nil {
				t.Fatal(err)
			}
			if got == vectorName || !strings.HasPrefix(got, csr.NodeCSRNamePrefix) {
				t.Fatalf("name %s: want a different node-csr- name than the vector", got)
			}
			again, _ := csr.NodeCSRName(tc.pub, tc.subject, tc.usages)
			if again != got {
				t.Fatalf("not deterministic: %s then %s", got, again)
			}
		})
	}
	if _, err := csr.NodeCSRName("not a key", subject, nil); err == nil {
		t.Fatal("NodeCSRName accepted a non-key")
	}
}
