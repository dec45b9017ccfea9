package sign_test

import (
	"crypto/x509"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"

	"github.com/google/go-cmp/cmp"
	certificatesv1 "k8s.io/api/certificates/v1"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

func TestCertificateTTL(t *testing.T) {
	const day = 24 * time.Hour
	for _, tc := range []struct {
		name   string
		asked  *int32
		maxTTL time.Duration
		want   time.Duration
	}{
		{"unset", nil, day, day},
		{"unset, default duration", nil, 0, 8760 * time.Hour},
		{"equal", int32p(86400), day, day},
		{"above", int32p(2 * 86400), day, day},
		{"below", int32p(20 * 3600), day, 20 * time.Hour},
		{"exactly the floor", int32p(600), day, 10 * time.Minute},
		{"under the floor", int32p(599), day, 10 * time.Minute},
		{"negative", int32p(-420), day, 10 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sign.CertificateTTL(tc.asked, tc.maxTTL); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestValidity(t *testing.T) {
	now := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	far := now.Add(100 * 24 * time.Hour)
	for _, tc := range []struct {
		name                string
		ttl                 time.Duration
		caNotAfter          time.Time
		wantBefore, wantEnd time.Time
		wantErr             bool
	}{
		{"long: backdate taken from the lifetime", 24 * time.Hour, far, now.Add(-5 * time.Minute), now.Add(24*time.Hour - 5*time.Minute), false},
		{"exactly 8h counts as long", 8 * time.Hour, far, now.Add(-5 * time.Minute), now.Add(8*time.Hour - 5*time.Minute), false},
		{"short: backdate added", 2 * time.Hour, far, now.Add(-5 * time.Minute), now.Add(2 * time.Hour), false},
		{"clamped to the CA", 24 * time.Hour, now.Add(time.Hour), now.Add(-5 * time.Minute), now.Add(time.Hour), false},
		{"CA expires at now", time.Hour, now, time.Time{}, time.Time{}, true},
		{"CA expired", time.Hour, now.Add(-time.Hour), time.Time{}, time.Time{}, true},
		{"CA expires within the backdate", time.Hour, now.Add(-time.Minute), time.Time{}, time.Time{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nb, na, err := sign.Validity(now, tc.ttl, tc.caNotAfter)
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "expired") {
					t.Fatalf("err = %v, want a CA expired error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !nb.Equal(tc.wantBefore) || !na.Equal(tc.wantEnd) {
				t.Errorf("got %s..%s, want %s..%s", nb, na, tc.wantBefore, tc.wantEnd)
			}
		})
	}
}

func TestIssueRefusesExpiredCAAndClamps(t *testing.T) {
	now := time.Now()
	ca := mustCA(t, sign.SelfSignedOptions{Validity: time.Hour, Clock: testingclock.NewFakePassiveClock(now)})
	obj, _ := kubeletClientCSR(t, "clamp", "n1")
	certPEM, err := sign.Issue(ca, obj, now, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if cert := parseCert(t, certPEM); !cert.NotAfter.Equal(ca.Cert.NotAfter) {
		t.Errorf("NotAfter %s, want clamped to the CA's %s", cert.NotAfter, ca.Cert.NotAfter)
	}
	_, err = sign.Issue(ca, obj, now.Add(2*time.Hour), 24*time.Hour)
	var verr *sign.ValidationError
	if err == nil || errors.As(err, &verr) {
		t.Fatalf("expired CA: err = %v, want a plain (retryable) error", err)
	}
}

func TestIssueCertificateContents(t *testing.T) {
	for _, kt := range []csr.KeyType{csr.ECDSAP256, csr.RSA2048, csr.Ed25519} {
		t.Run(string(kt), func(t *testing.T) {
			ca := mustCA(t, sign.SelfSignedOptions{KeyType: kt})
			key := newKey(t)
			req := request{CN: "system:node:web-1", Orgs: []string{"system:nodes"}, DNS: []string{"web-1", "web-1.example.com"}, IPs: []net.IP{net.ParseIP("10.0.0.7").To4(), net.ParseIP("fd00::7")}}
			obj := csrObject("contents", certificatesv1.KubeletServingSignerName, req.PEM(t, key), servingUsages, nil)
			now := time.Now()
			certPEM, err := sign.Issue(ca, obj, now, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			cert := parseCert(t, certPEM)
			pool := x509.NewCertPool()
			pool.AddCert(ca.Cert)
			if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "web-1.example.com", KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
				t.Errorf("does not chain to the CA: %v", err)
			}
			if !cert.BasicConstraintsValid || cert.IsCA {
				t.Errorf("basic constraints valid=%v CA=%v, want CA:false", cert.BasicConstraintsValid, cert.IsCA)
			}
			if cert.Subject.CommonName != req.CN || !slices.Equal(cert.Subject.Organization, req.Orgs) {
				t.Errorf("subject %s", cert.Subject)
			}
			if diff := cmp.Diff(req.DNS, cert.DNSNames); diff != "" {
				t.Errorf("DNS SANs (-want +got):\n%s", diff)
			}
			if len(cert.IPAddresses) != 2 || !cert.IPAddresses[0].Equal(req.IPs[0]) || !cert.IPAddresses[1].Equal(req.IPs[1]) {
				t.Errorf("IP SANs %v, want %v", cert.IPAddresses, req.IPs)
			}
			if cert.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment {
				t.Errorf("key usage %b", cert.KeyUsage)
			}
			if !slices.Equal(cert.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
				t.Errorf("ext key usage %v", cert.ExtKeyUsage)
			}
			if !key.PublicKey.Equal(cert.PublicKey) {
				t.Error("public key not the request's")
			}
			if cert.SerialNumber.Sign() <= 0 || cert.SerialNumber.BitLen() > 128 {
				t.Errorf("serial %v not a positive 128-bit number", cert.SerialNumber)
			}
			if got := cert.NotAfter.Sub(cert.NotBefore); got != time.Hour+5*time.Minute {
				t.Errorf("lifetime %s, want 1h5m", got)
			}
		})
	}
}

func TestIssueUniqueSerials(t *testing.T) {
	ca := mustCA(t, sign.SelfSignedOptions{})
	obj, _ := kubeletClientCSR(t, "serials", "n1")
	seen := map[string]bool{}
	var top int
	for range 200 {
		certPEM, err := sign.Issue(ca, obj, time.Now(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		s := parseCert(t, certPEM).SerialNumber
		if seen[s.String()] {
			t.Fatalf("serial %v issued twice", s)
		}
		seen[s.String()] = true
		top = max(top, s.BitLen())
	}
	// 200 random 128-bit serials: the largest has (with overwhelming odds) more than 120 bits.
	if top <= 120 {
		t.Errorf("largest serial has %d bits: not 128 random bits", top)
	}
}

func TestIssuePerSignerRules(t *testing.T) {
	ca := mustCA(t, sign.SelfSignedOptions{})
	node := request{CN: "system:node:n1", Orgs: []string{"system:nodes"}}
	serving := request{CN: "system:node:n1", Orgs: []string{"system:nodes"}, DNS: []string{"n1"}}
	u := func(us ...certificatesv1.KeyUsage) []certificatesv1.KeyUsage { return us }
	const (
		ds  = certificatesv1.UsageDigitalSignature
		ke  = certificatesv1.UsageKeyEncipherment
		ca_ = certificatesv1.UsageClientAuth
		sa  = certificatesv1.UsageServerAuth
	)
	for _, tc := range []struct {
		name     string
		signer   string
		req      request
		usages   []certificatesv1.KeyUsage
		wantRule csr.Rule // empty: issued
	}{
		{"kubelet client ds+ca", certificatesv1.KubeAPIServerClientKubeletSignerName, node, u(ds, ca_), ""},
		{"kubelet client ds+ke+ca", certificatesv1.KubeAPIServerClientKubeletSignerName, node, u(ke, ca_, ds), ""},
		{"kubelet client with server auth", certificatesv1.KubeAPIServerClientKubeletSignerName, node, u(ds, ca_, sa), csr.RuleUsages},
		{"kubelet client without ds", certificatesv1.KubeAPIServerClientKubeletSignerName, node, u(ca_), csr.RuleUsages},
		{"kubelet client with DNS SAN", certificatesv1.KubeAPIServerClientKubeletSignerName, serving, u(ds, ca_), csr.RuleNoDNSNames},
		{"kubelet client wrong O", certificatesv1.KubeAPIServerClientKubeletSignerName, request{CN: "system:node:n1", Orgs: []string{"system:masters"}}, u(ds, ca_), csr.RuleOrganization},
		{"kubelet client wrong CN", certificatesv1.KubeAPIServerClientKubeletSignerName, request{CN: "mike", Orgs: []string{"system:nodes"}}, u(ds, ca_), csr.RuleCommonNamePrefix},
		{"kubelet serving ds+sa", certificatesv1.KubeletServingSignerName, serving, u(ds, sa), ""},
		{"kubelet serving ds+ke+sa", certificatesv1.KubeletServingSignerName, serving, u(ds, ke, sa), ""},
		{"kubelet serving with client auth", certificatesv1.KubeletServingSignerName, serving, u(ds, sa, ca_), csr.RuleUsages},
		{"kubelet serving without SAN", certificatesv1.KubeletServingSignerName, node, u(ds, sa), csr.RuleDNSOrIPRequired},
		{"kubelet serving with email", certificatesv1.KubeletServingSignerName, request{CN: "system:node:n1", Orgs: []string{"system:nodes"}, DNS: []string{"n1"}, Emails: []string{"a@b.c"}}, u(ds, sa), csr.RuleNoEmailAddresses},
		{"apiserver client ca", certificatesv1.KubeAPIServerClientSignerName, request{CN: "alice"}, u(ca_), ""},
		{"apiserver client ds+ke+ca", certificatesv1.KubeAPIServerClientSignerName, request{CN: "alice"}, u(ds, ke, ca_), ""},
		{"apiserver client without client auth", certificatesv1.KubeAPIServerClientSignerName, request{CN: "alice"}, u(ds, ke), csr.RuleUsages},
		{"apiserver client with server auth", certificatesv1.KubeAPIServerClientSignerName, request{CN: "alice"}, u(ca_, sa), csr.RuleUsages},
		{"legacy unknown anything", sign.LegacyUnknownSignerName, request{CN: "anything", Emails: []string{"a@b.c"}}, u(certificatesv1.UsageCodeSigning, certificatesv1.UsageCertSign, sa), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := csrObject("rules", tc.signer, tc.req.PEM(t, newKey(t)), tc.usages, nil)
			certPEM, err := sign.Issue(ca, obj, time.Now(), time.Hour)
			if tc.wantRule == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				parseCert(t, certPEM)
				return
			}
			var verr *sign.ValidationError
			var rerr *csr.RuleError
			if !errors.As(err, &verr) || !errors.As(err, &rerr) || rerr.Rule != tc.wantRule {
				t.Fatalf("err = %v, want a ValidationError for rule %s", err, tc.wantRule)
			}
		})
	}
}

func TestIssueBadInput(t *testing.T) {
	ca := mustCA(t, sign.SelfSignedOptions{})
	good, _ := kubeletClientCSR(t, "x", "n1")
	foreign := good.DeepCopy()
	foreign.Spec.SignerName = "example.com/mine"
	garbage := good.DeepCopy()
	garbage.Spec.Request = []byte("not a request")
	unknownUsage := csrObject("u", sign.LegacyUnknownSignerName, request{CN: "x"}.PEM(t, newKey(t)), []certificatesv1.KeyUsage{"telepathy"}, nil)
	for _, tc := range []struct {
		name           string
		ca             *sign.CA
		obj            *certificatesv1.CertificateSigningRequest
		wantValidation bool
	}{
		{"nil CA", nil, good, false},
		{"nil CSR", ca, nil, false},
		{"foreign signer", ca, foreign, false},
		{"garbage request", ca, garbage, true},
		{"unknown usage", ca, unknownUsage, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sign.Issue(tc.ca, tc.obj, time.Now(), time.Hour)
			var verr *sign.ValidationError
			if err == nil || errors.As(err, &verr) != tc.wantValidation {
				t.Fatalf("err = %v (validation error: %v), want validation=%v", err, errors.As(err, &verr), tc.wantValidation)
			}
		})
	}
}
