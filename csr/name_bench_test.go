package csr_test

import (
	"testing"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// BenchmarkNodeCSRName computes the kubelet's deterministic CSR name (as pkg/kubelet/certificate/bootstrap does;
// vector), which every bootstrap and every renewal does once.
func BenchmarkNodeCSRName(b *testing.B) {
	key, err := csr.ParseKeyPEM([]byte(vectorKeyPEM))
	if err != nil {
		b.Fatal(err)
	}
	pub, subject := key.Public(), csr.NodeSubject("vector-node")
	usages := csr.NodeClientUsages(pub)
	b.ReportAllocs()
	for b.Loop() {
		name, err := csr.NodeCSRName(pub, subject, usages)
		if err != nil || name != vectorName {
			b.Fatalf("NodeCSRName = %q, %v; want %s", name, err, vectorName)
		}
	}
}
