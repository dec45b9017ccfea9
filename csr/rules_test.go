package csr

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net"
	"net/url"
	"testing"

	certificatesv1 "k8s.io/api/certificates/v1"
)

// testRequest builds and parses a real signed request, so the rules see exactly what
// they see from spec.request.
func testRequest(t *testing.T, tmpl x509.CertificateRequest) *x509.CertificateRequest {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	req, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestKubeletRules(t *testing.T) {
	const (
		ds = certificatesv1.UsageDigitalSignature
		ke = certificatesv1.UsageKeyEncipherment
		ca = certificatesv1.UsageClientAuth
		sa = certificatesv1.UsageServerAuth
	)
	node := pkix.Name{CommonName: "system:node:n1", Organization: []string{"system:nodes"}}
	withName := func(cn string, orgs ...string) pkix.Name { return pkix.Name{CommonName: cn, Organization: orgs} }
	uri, _ := url.Parse("spiffe://cluster/node")
	ip := net.ParseIP("10.0.0.1")

	type validator func(*x509.CertificateRequest, []certificatesv1.KeyUsage) error
	client := ValidateKubeletClient
	serving := ValidateKubeletServing

	tests := []struct {
		name     string
		validate validator
		req      x509.CertificateRequest
		usages   []certificatesv1.KeyUsage
		wantRule Rule // "" = valid
	}{
		// Kubelet client: the accepted shapes.
		{"client: ds+ca", client, x509.CertificateRequest{Subject: node}, []certificatesv1.KeyUsage{ds, ca}, ""},
		{"client: ds+ke+ca any order", client, x509.CertificateRequest{Subject: node}, []certificatesv1.KeyUsage{ca, ke, ds}, ""},
		// The recognizer negatives of pkg/controller/certificates/approver/sarapprove_test.go.
		{"client: CN mike", client, x509.CertificateRequest{Subject: withName("mike", "system:nodes")}, []certificatesv1.KeyUsage{ds, ca}, RuleCommonNamePrefix},
		{"client: no O", client, x509.CertificateRequest{Subject: withName("system:node:n1")}, []certificatesv1.KeyUsage{ds, ca}, RuleOrganization},
		{"client: O system:master", client, x509.CertificateRequest{Subject: withName("system:node:n1", "system:master")}, []certificatesv1.KeyUsage{ds, ca}, RuleOrganization},
		{"client: two O", client, x509.CertificateRequest{Subject: withName("system:node:n1", "system:nodes", "system:masters")}, []certificatesv1.KeyUsage{ds, ca}, RuleOrganization},
		{"client: extra server auth", client, x509.CertificateRequest{Subject: node}, []certificatesv1.KeyUsage{ds, ke, ca, sa}, RuleUsages},
		// A client request is no serving request: what the kubelet-serving signer would see.
		{"client request checked as serving", serving, x509.CertificateRequest{Subject: node}, []certificatesv1.KeyUsage{ds, ca}, RuleDNSOrIPRequired},
		// Every SAN rule for client certificates.
		{"client: DNS SAN", client, x509.CertificateRequest{Subject: node, DNSNames: []string{"n1"}}, []certificatesv1.KeyUsage{ds, ca}, RuleNoDNSNames},
		{"client: email SAN", client, x509.CertificateRequest{Subject: node, EmailAddresses: []string{"a@b.c"}}, []certificatesv1.KeyUsage{ds, ca}, RuleNoEmailAddresses},
		{"client: IP SAN", client, x509.CertificateRequest{Subject: node, IPAddresses: []net.IP{ip}}, []certificatesv1.KeyUsage{ds, ca}, RuleNoIPAddresses},
		{"client: URI SAN", client, x509.CertificateRequest{Subject: node, URIs: []*url.URL{uri}}, []certificatesv1.KeyUsage{ds, ca}, RuleNoURIs},
		{"client: usages missing client auth", client, x509.CertificateRequest{Subject: node}, []certificatesv1.KeyUsage{ds}, RuleUsages},
		{"client: no usages", client, x509.CertificateRequest{Subject: node}, nil, RuleUsages},
		{"client: organization checked first", client, x509.CertificateRequest{Subject: withName("mike"), DNSNames: []string{"x"}}, nil, RuleOrganization},

		// Kubelet serving.
		{"serving: DNS", serving, x509.CertificateRequest{Subject: node, DNSNames: []string{"n1"}}, []certificatesv1.KeyUsage{ds, sa}, ""},
		{"serving: IP with ke", serving, x509.CertificateRequest{Subject: node, IPAddresses: []net.IP{ip}}, []certificatesv1.KeyUsage{ke, sa, ds}, ""},
		{"serving: no SAN", serving, x509.CertificateRequest{Subject: node}, []certificatesv1.KeyUsage{ds, sa}, RuleDNSOrIPRequired},
		{"serving: no O", serving, x509.CertificateRequest{Subject: withName("system:node:n1"), DNSNames: []string{"n1"}}, []certificatesv1.KeyUsage{ds, sa}, RuleOrganization},
		{"serving: email SAN", serving, x509.CertificateRequest{Subject: node, DNSNames: []string{"n1"}, EmailAddresses: []string{"a@b.c"}}, []certificatesv1.KeyUsage{ds, sa}, RuleNoEmailAddresses},
		{"serving: URI SAN", serving, x509.CertificateRequest{Subject: node, IPAddresses: []net.IP{ip}, URIs: []*url.URL{uri}}, []certificatesv1.KeyUsage{ds, sa}, RuleNoURIs},
		{"serving: CN mike", serving, x509.CertificateRequest{Subject: withName("mike", "system:nodes"), DNSNames: []string{"n1"}}, []certificatesv1.KeyUsage{ds, sa}, RuleCommonNamePrefix},
		{"serving: client usages", serving, x509.CertificateRequest{Subject: node, DNSNames: []string{"n1"}}, []certificatesv1.KeyUsage{ds, ca}, RuleUsages},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.validate(testRequest(t, tc.req), tc.usages)
			checkRule(t, err, tc.wantRule)
		})
	}
}

func TestValidateKubeAPIServerClient(t *testing.T) {
	tests := []struct {
		name     string
		usages   []certificatesv1.KeyUsage
		wantRule Rule
	}{
		{"client auth only", []certificatesv1.KeyUsage{certificatesv1.UsageClientAuth}, ""},
		{"all allowed", []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment, certificatesv1.UsageClientAuth}, ""},
		{"missing client auth", []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature}, RuleUsages},
		{"none", nil, RuleUsages},
		{"server auth", []certificatesv1.KeyUsage{certificatesv1.UsageClientAuth, certificatesv1.UsageServerAuth}, RuleUsages},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkRule(t, ValidateKubeAPIServerClient(tc.usages), tc.wantRule)
		})
	}
}

func checkRule(t *testing.T, err error, want Rule) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("got %v, want valid", err)
		}
		return
	}
	var re *RuleError
	if !errors.As(err, &re) {
		t.Fatalf("got %v, want a *RuleError for %s", err, want)
	}
	if re.Rule != want {
		t.Fatalf("rule = %s (%v), want %s", re.Rule, err, want)
	}
	if re.Detail == "" || err.Error() == "" {
		t.Fatal("rule error without detail")
	}
}
