package sign_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

// splitUsages turns the fuzzer's comma-separated string into spec.usages.
func splitUsages(s string) []certificatesv1.KeyUsage {
	var us []certificatesv1.KeyUsage
	for _, u := range strings.Split(s, ",") {
		if u != "" {
			us = append(us, certificatesv1.KeyUsage(u))
		}
	}
	return us
}

// FuzzIssue: any spec.request, usages, signer name and expirationSeconds given to Issue with
// a test CA give a certificate or an error, never a panic; a certificate it issues is
// CA:false, chains to the CA, carries the request's public key and only the requested usages,
// and its request passes ValidateRequest for that signer.
func FuzzIssue(f *testing.F) {
	ca := mustCA(f, sign.SelfSignedOptions{})
	key := newKey(f)
	client := request{CN: "system:node:n1", Orgs: []string{"system:nodes"}}.PEM(f, key)
	serving := request{CN: "system:node:n1", Orgs: []string{"system:nodes"}, DNS: []string{"n1"}}.PEM(f, key)
	f.Add(client, "digital signature,client auth", certificatesv1.KubeAPIServerClientKubeletSignerName, int32(3600))
	f.Add(serving, "digital signature,key encipherment,server auth", certificatesv1.KubeletServingSignerName, int32(0))
	f.Add(client, "client auth,server auth", certificatesv1.KubeAPIServerClientSignerName, int32(-1))
	f.Add(client, "cert sign,crl sign", sign.LegacyUnknownSignerName, int32(599))
	f.Add(append(append([]byte{}, client...), client...), "client auth", certificatesv1.KubeAPIServerClientKubeletSignerName, int32(1))
	f.Add([]byte("garbage"), "", "", int32(0))
	now := time.Now()
	f.Fuzz(func(t *testing.T, request []byte, usages, signer string, seconds int32) {
		obj := csrObject("fuzz", signer, request, splitUsages(usages), &seconds)
		certPEM, err := sign.Issue(ca, obj, now, time.Hour)
		if err != nil {
			return
		}
		req, err := csr.ParseRequestPEM(request)
		if err != nil {
			t.Fatalf("Issue signed a request ParseRequestPEM refuses: %v", err)
		}
		if err := sign.ValidateRequest(signer, req, obj.Spec.Usages); err != nil {
			t.Fatalf("Issue signed a request ValidateRequest refuses: %v", err)
		}
		cert := parseCert(t, certPEM)
		if cert.IsCA {
			t.Fatal("issued certificate is a CA")
		}
		if err := cert.CheckSignatureFrom(ca.Cert); err != nil {
			t.Fatalf("issued certificate does not chain to the CA: %v", err)
		}
		wantKU, wantEKU, err := sign.KeyUsages(obj.Spec.Usages)
		if err != nil {
			t.Fatalf("issued with usages KeyUsages refuses: %v", err)
		}
		if cert.KeyUsage != wantKU || len(cert.ExtKeyUsage) != len(wantEKU) {
			t.Fatalf("issued usages %v/%v, requested %v", cert.KeyUsage, cert.ExtKeyUsage, obj.Spec.Usages)
		}
		if !bytes.Equal(cert.RawSubjectPublicKeyInfo, req.RawSubjectPublicKeyInfo) {
			t.Fatal("issued certificate's public key is not the request's")
		}
	})
}

// FuzzValidateRequest: any parsed request with any usages and signer name is accepted or
// refused with an error, never a panic; a kubelet client request it accepts passes the csr
// package's kubelet client rules.
func FuzzValidateRequest(f *testing.F) {
	key := newKey(f)
	f.Add(request{CN: "system:node:n1", Orgs: []string{"system:nodes"}}.PEM(f, key), "client auth", certificatesv1.KubeAPIServerClientKubeletSignerName)
	f.Add(request{CN: "system:node:n1", Orgs: []string{"system:nodes"}, DNS: []string{"n1"}}.PEM(f, key), "digital signature,server auth", certificatesv1.KubeletServingSignerName)
	f.Add(request{CN: "alice", Emails: []string{"a@example.com"}}.PEM(f, key), "client auth", certificatesv1.KubeAPIServerClientSignerName)
	f.Add([]byte("-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n"), "", "example.com/x")
	f.Fuzz(func(t *testing.T, request []byte, usages, signer string) {
		req, err := csr.ParseRequestPEM(request)
		if err != nil {
			return
		}
		us := splitUsages(usages)
		if sign.ValidateRequest(signer, req, us) != nil {
			return
		}
		if signer == certificatesv1.KubeAPIServerClientKubeletSignerName {
			if err := csr.ValidateKubeletClient(req, us); err != nil {
				t.Fatalf("ValidateRequest accepted a kubelet client request the rules refuse: %v", err)
			}
		}
		if signer == certificatesv1.KubeletServingSignerName {
			if err := csr.ValidateKubeletServing(req, us); err != nil {
				t.Fatalf("ValidateRequest accepted a kubelet serving request the rules refuse: %v", err)
			}
		}
	})
}
