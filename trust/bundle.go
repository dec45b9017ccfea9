package trust

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"
)

// MergeBundles returns one PEM bundle holding every certificate of bundles, in the order
// they first appear, without duplicates and without those expired at now. Give the
// current CA first and the previously published bundle after it: the result then keeps
// the old CAs until they expire, and merging it again gives the same bytes. A block that
// is not a parsable CERTIFICATE is an error naming the bundle and block.
func MergeBundles(now time.Time, bundles ...[]byte) ([]byte, error) {
	var out bytes.Buffer
	seen := map[string]bool{}
	for i, b := range bundles {
		certs, err := ParseBundle(b)
		if err != nil {
			return nil, fmt.Errorf("bundle %d: %w", i+1, err)
		}
		for _, c := range certs {
			if seen[string(c.Raw)] || now.After(c.NotAfter) {
				continue
			}
			seen[string(c.Raw)] = true
			if err := pem.Encode(&out, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}); err != nil {
				return nil, err
			}
		}
	}
	if out.Len() == 0 {
		return nil, errors.New("no unexpired certificate to publish")
	}
	return out.Bytes(), nil
}

// ParseBundle parses a PEM bundle of certificates. Text between blocks is ignored; a block
// of another type or a malformed certificate is an error.
func ParseBundle(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return certs, nil
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %d is %q, want CERTIFICATE", len(certs)+1, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
}
