package csr_test

import (
	"testing"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

func FuzzParseRequestPEM(f *testing.F) {
	key := mustKey(f, csr.ECDSAP256)
	valid, err := csr.NodeClientRequest("n1", key)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add([]byte(""))
	f.Add([]byte("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"))
	f.Add(append(append([]byte{}, valid...), valid...))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := csr.ParseRequestPEM(data)
		if err != nil {
			return
		}
		if req.CheckSignature() != nil {
			t.Fatal("ParseRequestPEM returned a request whose signature does not verify")
		}
		// The rules must not panic on anything that parses.
		_ = csr.ValidateKubeletClient(req, nil)
		_ = csr.ValidateKubeletServing(req, nil)
	})
}

func FuzzParseKeyPEM(f *testing.F) {
	data, err := csr.MarshalKeyPEM(mustKey(f, csr.ECDSAP256))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		key, err := csr.ParseKeyPEM(data)
		if err == nil && csr.ValidateKey(key.Public()) != nil {
			t.Fatal("ParseKeyPEM returned a key ValidateKey rejects")
		}
	})
}
