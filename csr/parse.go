package csr

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"
)

// ParseRequestPEM decodes spec.request: exactly one PEM block of type
// "CERTIFICATE REQUEST" whose signature verifies against its own public key.
//
// The approver and the signer each parse every CSR, and checking the signature is most
// of the cost; a small process-wide cache of verified requests, keyed by the SHA-256 of
// data, lets the second parse skip it. The result may therefore be shared: do not
// modify it.
func ParseRequestPEM(data []byte) (*x509.CertificateRequest, error) {
	key := sha256.Sum256(data)
	if req, ok := verified.get(key); ok {
		return req, nil
	}
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, errors.New("certificate request: no PEM block found")
	}
	if block.Type != "CERTIFICATE REQUEST" {
		return nil, fmt.Errorf("certificate request: PEM block type is %q, want \"CERTIFICATE REQUEST\"", block.Type)
	}
	if next, _ := pem.Decode(rest); next != nil {
		return nil, errors.New("certificate request: more than one PEM block")
	}
	req, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("certificate request: %w", err)
	}
	if err := req.CheckSignature(); err != nil {
		return nil, fmt.Errorf("certificate request: signature does not verify: %w", err)
	}
	verified.put(key, req)
	return req, nil
}

// verifiedRequests is how many parsed requests the cache keeps: enough for the signer to
// find what the approver parsed during a storm of hundreds of CSRs at once, a few MiB at
// most.
const verifiedRequests = 1024

// verified holds the last verifiedRequests requests that parsed and verified; only
// those, so a bad request is refused afresh every time.
var verified = &requestCache{entries: map[[sha256.Size]byte]*x509.CertificateRequest{}}

// requestCache is a bounded map that forgets the oldest entry first.
type requestCache struct {
	mu      sync.Mutex
	entries map[[sha256.Size]byte]*x509.CertificateRequest
	order   [verifiedRequests][sha256.Size]byte
	next    int
}

func (c *requestCache) get(key [sha256.Size]byte) (*x509.CertificateRequest, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	req, ok := c.entries[key]
	return req, ok
}

func (c *requestCache) put(key [sha256.Size]byte, req *x509.CertificateRequest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; ok {
		return
	}
	if len(c.entries) == verifiedRequests {
		delete(c.entries, c.order[c.next])
	}
	c.order[c.next] = key
	c.next = (c.next + 1) % verifiedRequests
	c.entries[key] = req
}
