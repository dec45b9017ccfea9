package csr

import (
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"testing"
)

// The second parse of the same bytes is the first one's verified request; a request
// whose signature breaks is refused every time and never kept; the cache stays bounded.
func TestParseRequestPEMCache(t *testing.T) {
	key, err := GenerateKey(ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	good, err := NewRequest(RequestOptions{Subject: pkix.Name{CommonName: "cache"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	first, err := ParseRequestPEM(good)
	if err != nil {
		t.Fatal(err)
	}
	second, err := ParseRequestPEM(good)
	if err != nil || second != first {
		t.Errorf("second parse = %p, %v; want the cached %p", second, err, first)
	}

	block, _ := pem.Decode(good)
	block.Bytes[len(block.Bytes)-3] ^= 0xff // inside the signature
	bad := pem.EncodeToMemory(block)
	for range 2 {
		if _, err := ParseRequestPEM(bad); err == nil {
			t.Fatal("a request with a broken signature parsed")
		}
	}
	if _, ok := verified.get(sha256.Sum256(bad)); ok {
		t.Error("a refused request was cached")
	}

	c := &requestCache{entries: map[[sha256.Size]byte]*x509.CertificateRequest{}}
	for i := range verifiedRequests + 10 {
		c.put(sha256.Sum256([]byte(fmt.Sprint(i))), first)
	}
	if len(c.entries) != verifiedRequests {
		t.Errorf("the cache holds %d entries, want at most %d", len(c.entries), verifiedRequests)
	}
	if _, ok := c.get(sha256.Sum256([]byte("0"))); ok {
		t.Error("the oldest entry was not the one forgotten")
	}
	if _, ok := c.get(sha256.Sum256([]byte(fmt.Sprint(verifiedRequests + 9)))); !ok {
		t.Error("the newest entry is missing")
	}
}
