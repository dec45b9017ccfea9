package csr

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// ParseRequestPEM decodes spec.request: exactly one PEM block of type
// "CERTIFICATE REQUEST" whose signature verifies against its own public key.
func ParseRequestPEM(data []byte) (*x509.CertificateRequest, error) {
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
	return req, nil
}
