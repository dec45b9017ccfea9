package sign_test

import (
	"testing"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

func benchmarkIssue(b *testing.B, kt csr.KeyType) {
	ca, err := sign.NewSelfSignedCA(sign.SelfSignedOptions{KeyType: kt})
	if err != nil {
		b.Fatal(err)
	}
	obj, _ := kubeletClientCSR(b, "bench", "bench-node")
	now := time.Now()
	b.ResetTimer()
	for b.Loop() {
		if _, err := sign.Issue(ca, obj, now, 24*time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIssueECDSA issues a kubelet client certificate with an ECDSA P-256 CA.
func BenchmarkIssueECDSA(b *testing.B) { benchmarkIssue(b, csr.ECDSAP256) }

// BenchmarkIssueRSA issues a kubelet client certificate with an RSA-2048 CA.
func BenchmarkIssueRSA(b *testing.B) { benchmarkIssue(b, csr.RSA2048) }
