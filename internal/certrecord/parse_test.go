package certrecord

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

// parseFields reads what x509.ParseCertificate reads, for UTCTime and GeneralizedTime
// validity alike, and refuses what is not a certificate without panicking.
func TestParseFields(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		subject  pkix.Name
		notAfter time.Time
	}{
		{"utc time", pkix.Name{CommonName: "system:node:a", Organization: []string{"system:nodes"}}, time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"generalized time", pkix.Name{CommonName: "system:node:b", Organization: []string{"system:nodes"}}, time.Date(2051, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"no common name", pkix.Name{Organization: []string{"x"}}, time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := &x509.Certificate{SerialNumber: new(big.Int).Lsh(big.NewInt(0xabcdef), 100), Subject: tc.subject,
				NotBefore: tc.notAfter.Add(-24 * time.Hour), NotAfter: tc.notAfter}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
			if err != nil {
				t.Fatal(err)
			}
			want, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseFields(der)
			if err != nil {
				t.Fatal(err)
			}
			if got.commonName != want.Subject.CommonName || got.serial.Cmp(want.SerialNumber) != 0 ||
				!got.notBefore.Equal(want.NotBefore) || !got.notAfter.Equal(want.NotAfter) {
				t.Errorf("parseFields = %+v, want CN %q serial %s %s–%s", got, want.Subject.CommonName, want.SerialNumber, want.NotBefore, want.NotAfter)
			}
			for i := range der {
				_, _ = parseFields(der[:i]) // must not panic
			}
		})
	}
	if _, err := parseFields([]byte("not a certificate")); err == nil {
		t.Error("parseFields accepted garbage")
	}
}
