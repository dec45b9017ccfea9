package approve_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	certificatesv1 "k8s.io/api/certificates/v1"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

const (
	kubeletClientSigner  = certificatesv1.KubeAPIServerClientKubeletSignerName
	kubeletServingSigner = certificatesv1.KubeletServingSignerName
)

func TestClassify(t *testing.T) {
	withKeyEnc := []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment, certificatesv1.UsageClientAuth}
	extraServerAuth := []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth, certificatesv1.UsageServerAuth}
	const self = "system:node:n1"
	const bootstrap = "system:bootstrap:abcdef"
	for _, tc := range []struct {
		name      string
		signer    string
		requester string
		usages    []certificatesv1.KeyUsage
		req       request
		wantKinds []approve.Kind
		// wantRule is the rule each unrecognized kind broke.
		wantRules map[approve.Kind]csr.Rule
	}{
		{"self renewal", kubeletClientSigner, self, clientUsages, kubeletRequest("n1"),
			[]approve.Kind{approve.KindSelfNodeClient, approve.KindNodeClient},
			map[approve.Kind]csr.Rule{approve.KindSelfNodeServer: approve.RuleSignerName}},
		{"self renewal with key encipherment", kubeletClientSigner, self, withKeyEnc, kubeletRequest("n1"),
			[]approve.Kind{approve.KindSelfNodeClient, approve.KindNodeClient},
			map[approve.Kind]csr.Rule{approve.KindSelfNodeServer: approve.RuleSignerName}},
		{"bootstrap requester", kubeletClientSigner, bootstrap, clientUsages, kubeletRequest("n1"),
			[]approve.Kind{approve.KindNodeClient},
			map[approve.Kind]csr.Rule{approve.KindSelfNodeClient: approve.RuleRequesterIsSubject, approve.KindSelfNodeServer: approve.RuleSignerName}},
		{"CN mike", kubeletClientSigner, bootstrap, clientUsages, kubeletRequest("n1").withCN("mike"), nil,
			map[approve.Kind]csr.Rule{approve.KindSelfNodeClient: csr.RuleCommonNamePrefix, approve.KindNodeClient: csr.RuleCommonNamePrefix, approve.KindSelfNodeServer: approve.RuleSignerName}},
		{"no organization", kubeletClientSigner, self, clientUsages, kubeletRequest("n1").withOrgs(), nil,
			map[approve.Kind]csr.Rule{approve.KindSelfNodeClient: csr.RuleOrganization, approve.KindNodeClient: csr.RuleOrganization, approve.KindSelfNodeServer: approve.RuleSignerName}},
		{"organization system:master", kubeletClientSigner, self, clientUsages, kubeletRequest("n1").withOrgs("system:master"), nil,
			map[approve.Kind]csr.Rule{approve.KindSelfNodeClient: csr.RuleOrganization, approve.KindNodeClient: csr.RuleOrganization, approve.KindSelfNodeServer: approve.RuleSignerName}},
		{"extra server auth usage", kubeletClientSigner, self, extraServerAuth, kubeletRequest("n1"), nil,
			map[approve.Kind]csr.Rule{approve.KindSelfNodeClient: csr.RuleUsages, approve.KindNodeClient: csr.RuleUsages, approve.KindSelfNodeServer: approve.RuleSignerName}},
		{"signer example.com/not-correct", "example.com/not-correct", self, clientUsages, kubeletRequest("n1"), nil,
			map[approve.Kind]csr.Rule{approve.KindSelfNodeClient: approve.RuleSignerName, approve.KindNodeClient: approve.RuleSignerName, approve.KindSelfNodeServer: approve.RuleSignerName}},
		{"client request to the kubelet-serving signer", kubeletServingSigner, self, clientUsages, kubeletRequest("n1"), nil,
			map[approve.Kind]csr.Rule{approve.KindSelfNodeClient: approve.RuleSignerName, approve.KindNodeClient: approve.RuleSignerName, approve.KindSelfNodeServer: csr.RuleDNSOrIPRequired}},
		{"DNS SAN on a client request", kubeletClientSigner, self, clientUsages, kubeletRequest("n1").withDNS("n1"), nil,
			map[approve.Kind]csr.Rule{approve.KindSelfNodeClient: csr.RuleNoDNSNames, approve.KindNodeClient: csr.RuleNoDNSNames, approve.KindSelfNodeServer: approve.RuleSignerName}},
		{"email SAN", kubeletClientSigner, self, clientUsages, kubeletRequest("n1").withEmail("a@example.com"), nil,
			map[approve.Kind]csr.Rule{approve.KindSelfNodeClient: csr.RuleNoEmailAddresses, approve.KindNodeClient: csr.RuleNoEmailAddresses, approve.KindSelfNodeServer: approve.RuleSignerName}},
		{"IP SAN on a client request", kubeletClientSigner, self, clientUsages, kubeletRequest("n1").withIPs("10.0.0.1"), nil,
			map[approve.Kind]csr.Rule{approve.KindSelfNodeClient: csr.RuleNoIPAddresses, approve.KindNodeClient: csr.RuleNoIPAddresses, approve.KindSelfNodeServer: approve.RuleSignerName}},
		{"URI SAN", kubeletClientSigner, self, clientUsages, kubeletRequest("n1").withURI("spiffe://x/y"), nil,
			map[approve.Kind]csr.Rule{approve.KindSelfNodeClient: csr.RuleNoURIs, approve.KindNodeClient: csr.RuleNoURIs, approve.KindSelfNodeServer: approve.RuleSignerName}},
		{"serving self", kubeletServingSigner, self, servingUsages, kubeletRequest("n1").withDNS("n1.example").withIPs("10.0.0.1"),
			[]approve.Kind{approve.KindSelfNodeServer},
			map[approve.Kind]csr.Rule{approve.KindSelfNodeClient: approve.RuleSignerName, approve.KindNodeClient: approve.RuleSignerName}},
		{"serving for another node", kubeletServingSigner, "system:node:n2", servingUsages, kubeletRequest("n1").withDNS("n1.example"), nil,
			map[approve.Kind]csr.Rule{approve.KindSelfNodeClient: approve.RuleSignerName, approve.KindNodeClient: approve.RuleSignerName, approve.KindSelfNodeServer: approve.RuleRequesterIsSubject}},
		{"serving with client usages", kubeletServingSigner, self, clientUsages, kubeletRequest("n1").withDNS("n1.example"), nil,
			map[approve.Kind]csr.Rule{approve.KindSelfNodeClient: approve.RuleSignerName, approve.KindNodeClient: approve.RuleSignerName, approve.KindSelfNodeServer: csr.RuleUsages}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := approve.Classify(csrObject("x", tc.signer, tc.requester, tc.usages, tc.req.pem(t)))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantKinds, c.Kinds); diff != "" {
				t.Errorf("kinds (-want +got):\n%s", diff)
			}
			if (len(c.Kinds) > 0) != (len(tc.wantKinds) > 0) {
				t.Errorf("recognized = %v with kinds %v", len(c.Kinds) > 0, c.Kinds)
			}
			gotRules := map[approve.Kind]csr.Rule{}
			for _, e := range c.NotRecognized {
				gotRules[e.Kind] = e.Rule
				if e.Detail == "" || e.Error() == "" {
					t.Errorf("%s: empty detail", e.Kind)
				}
			}
			if diff := cmp.Diff(tc.wantRules, gotRules); diff != "" {
				t.Errorf("broken rules (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClassifyBadRequest(t *testing.T) {
	for name, obj := range map[string]*certificatesv1.CertificateSigningRequest{
		"nil":           nil,
		"not PEM":       csrObject("x", kubeletClientSigner, "u", clientUsages, []byte("hello")),
		"wrong PEM":     csrObject("x", kubeletClientSigner, "u", clientUsages, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")),
		"empty request": csrObject("x", kubeletClientSigner, "u", clientUsages, nil),
	} {
		t.Run(name, func(t *testing.T) {
			c, err := approve.Classify(obj)
			if err == nil {
				t.Fatalf("Classify accepted it: %+v", c)
			}
			var nre *approve.NotRecognizedError
			if errors.As(err, &nre) {
				t.Errorf("a parse failure should not be a NotRecognizedError: %v", err)
			}
		})
	}
}

func BenchmarkClassify(b *testing.B) {
	obj := csrObject("bench", kubeletClientSigner, "system:node:n1", clientUsages, kubeletRequest("n1").pem(b))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := approve.Classify(obj); err != nil {
			b.Fatal(err)
		}
	}
}
