package csr_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

func TestVerifyIssued(t *testing.T) {
	ca := newCA(t)
	key, other := mustKey(t, csr.ECDSAP256), mustKey(t, csr.ECDSAP256)
	req, err := csr.NodeClientRequest("n1", key)
	if err != nil {
		t.Fatal(err)
	}
	otherKeyReq, _ := csr.NodeClientRequest("n1", other)
	otherNodeReq, _ := csr.NodeClientRequest("n2", key)
	now := time.Now()
	tests := []struct {
		name string
		cert []byte
		want string // "" = matches
	}{
		{"matches", issue(t, ca, req, now, time.Hour), ""},
		{"other key", issue(t, ca, otherKeyReq, now, time.Hour), "another public key"},
		{"other subject", issue(t, ca, otherNodeReq, now, time.Hour), `subject is "CN=system:node:n2,O=system:nodes"`},
		{"not a certificate", []byte("garbage"), "does not parse"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := csr.VerifyIssued("x", tc.cert, req, key)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var me *csr.MismatchError
			if !errors.As(err, &me) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a *MismatchError containing %q", err, tc.want)
			}
		})
	}
}

func TestCompatible(t *testing.T) {
	ca := newCA(t)
	key, other := mustKey(t, csr.ECDSAP256), mustKey(t, csr.ECDSAP256)
	wantedSpec, err := csr.NodeClientSpec("n1", key, nil)
	if err != nil {
		t.Fatal(err)
	}
	wanted := csr.New(wantedSpec)
	otherKeySpec, _ := csr.NodeClientSpec("n1", other, nil)
	otherNodeSpec, _ := csr.NodeClientSpec("n2", key, nil)
	now := time.Now()

	tests := []struct {
		name   string
		modify func(*certificatesv1.CertificateSigningRequest)
		want   string // "" = compatible
	}{
		{"same", func(*certificatesv1.CertificateSigningRequest) {}, ""},
		{"usages reordered", func(o *certificatesv1.CertificateSigningRequest) {
			o.Spec.Usages = []certificatesv1.KeyUsage{certificatesv1.UsageClientAuth, certificatesv1.UsageDigitalSignature}
		}, ""},
		{"valid certificate", func(o *certificatesv1.CertificateSigningRequest) {
			o.Status.Certificate = issue(t, ca, o.Spec.Request, now.Add(-time.Minute), time.Hour)
		}, ""},
		{"expired certificate", func(o *certificatesv1.CertificateSigningRequest) {
			o.Status.Certificate = issue(t, ca, o.Spec.Request, now.Add(-2*time.Hour), time.Hour)
		}, "certificate expired"},
		{"other key", func(o *certificatesv1.CertificateSigningRequest) { o.Spec.Request = otherKeySpec.Request }, "another private key"},
		{"other subject", func(o *certificatesv1.CertificateSigningRequest) { o.Spec.Request = otherNodeSpec.Request }, "subject is"},
		{"other signer", func(o *certificatesv1.CertificateSigningRequest) {
			o.Spec.SignerName = certificatesv1.KubeAPIServerClientSignerName
		}, `signer is "kubernetes.io/kube-apiserver-client"`},
		{"other usages", func(o *certificatesv1.CertificateSigningRequest) {
			o.Spec.Usages = append(o.Spec.Usages, certificatesv1.UsageKeyEncipherment)
		}, "usages are"},
		{"broken request", func(o *certificatesv1.CertificateSigningRequest) { o.Spec.Request = []byte("x") }, "no PEM block"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			existing := wanted.DeepCopy()
			existing.ObjectMeta = metav1.ObjectMeta{Name: wanted.Name, UID: "u1"}
			tc.modify(existing)
			err := csr.Compatible(existing, wanted, key, now)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ie *csr.IncompatibleError
			if !errors.As(err, &ie) || ie.Name != wanted.Name || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an *IncompatibleError for %s containing %q", err, wanted.Name, tc.want)
			}
		})
	}
}
