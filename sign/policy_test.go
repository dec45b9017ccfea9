package sign_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"

	certificatesv1 "k8s.io/api/certificates/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

const workloadSigner = "example.com/workload-serving"

func workloadPolicy(t testing.TB) sign.SignerPolicy {
	t.Helper()
	ca, err := sign.NewSelfSignedCA(sign.SelfSignedOptions{CommonName: "workload-ca"})
	if err != nil {
		t.Fatal(err)
	}
	return sign.SignerPolicy{
		SignerName:         workloadSigner,
		CA:                 ca,
		MaxDuration:        24 * time.Hour,
		AllowedDNSSuffixes: []string{"*.svc.cluster.local", ".svc", "localhost"},
		AllowedIPRanges:    []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12"), netip.MustParsePrefix("127.0.0.0/8")},
	}
}

func TestMatchName(t *testing.T) {
	patterns := []string{"*.svc.cluster.local", ".example.org", "exact.example.com"}
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"web.ns.svc.cluster.local", true},
		{"WEB.NS.SVC.CLUSTER.LOCAL", true},
		{"web.ns.svc.cluster.local.", true},
		{"*.ns.svc.cluster.local", true},
		{"svc.cluster.local", false}, // the apex is not under the suffix
		{"evilsvc.cluster.local", false},
		{"a.example.org", true},
		{"example.org", false},
		{"exact.example.com", true},
		{"sub.exact.example.com", false},
		{"", false},
	} {
		if got := sign.MatchName(patterns, tc.name); got != tc.want {
			t.Errorf("MatchName(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
	if !sign.MatchName([]string{"*"}, "anything.example") {
		t.Error(`"*" should allow every name`)
	}
	if sign.MatchName(nil, "a.svc.cluster.local") {
		t.Error("no patterns should allow no name")
	}
}

func TestSignerPolicyValidate(t *testing.T) {
	p := workloadPolicy(t)
	key := newKey(t)
	serving := []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth}
	for _, tc := range []struct {
		name     string
		req      request
		usages   []certificatesv1.KeyUsage
		wantRule csr.Rule // empty: allowed
		wantIn   string   // text the message must contain
	}{
		{name: "service names and IPs", req: request{CN: "web", DNS: []string{"web.ns.svc.cluster.local", "web.ns.svc"}, IPs: []net.IP{net.ParseIP("10.96.0.10"), net.ParseIP("127.0.0.1")}}, usages: serving},
		{name: "exact name", req: request{DNS: []string{"localhost"}}, usages: servingUsages},
		{name: "DNS outside suffixes", req: request{DNS: []string{"web.ns.svc.cluster.local", "evil.example.com"}}, usages: serving, wantRule: sign.RulePolicyDNSName, wantIn: `"evil.example.com"`},
		{name: "apex of suffix", req: request{DNS: []string{"svc.cluster.local"}}, usages: serving, wantRule: sign.RulePolicyDNSName, wantIn: `"svc.cluster.local"`},
		{name: "IP outside ranges", req: request{IPs: []net.IP{net.ParseIP("192.168.1.5")}}, usages: serving, wantRule: sign.RulePolicyIP, wantIn: "192.168.1.5"},
		{name: "IPv6 outside ranges", req: request{IPs: []net.IP{net.ParseIP("fd00::1")}}, usages: serving, wantRule: sign.RulePolicyIP, wantIn: "fd00::1"},
		{name: "client auth not allowed", req: request{DNS: []string{"a.svc"}}, usages: []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}, wantRule: sign.RulePolicyUsage, wantIn: `"client auth"`},
		{name: "cert sign not allowed", req: request{DNS: []string{"a.svc"}}, usages: []certificatesv1.KeyUsage{certificatesv1.UsageCertSign}, wantRule: sign.RulePolicyUsage, wantIn: `"cert sign"`},
		{name: "no usages", req: request{DNS: []string{"a.svc"}}, wantRule: sign.RulePolicyUsage, wantIn: "no usages"},
		{name: "email SAN", req: request{DNS: []string{"a.svc"}, Emails: []string{"me@example.com"}}, usages: serving, wantRule: sign.RulePolicyEmail, wantIn: "me@example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cr, err := csr.ParseRequestPEM(tc.req.PEM(t, key))
			if err != nil {
				t.Fatal(err)
			}
			err = sign.PolicyValidate(&p, cr, tc.usages)
			if tc.wantRule == "" {
				if err != nil {
					t.Fatalf("Validate: %v, want allowed", err)
				}
				return
			}
			var verr *sign.ValidationError
			var rerr *csr.RuleError
			if !errors.As(err, &verr) || !errors.As(err, &rerr) {
				t.Fatalf("Validate: %v (%T), want a *ValidationError with a *csr.RuleError", err, err)
			}
			if rerr.Rule != tc.wantRule || !strings.Contains(err.Error(), tc.wantIn) {
				t.Errorf("Validate: rule %s, message %q; want rule %s naming %s", rerr.Rule, err, tc.wantRule, tc.wantIn)
			}
		})
	}
}

func TestSignerPolicySubjectsAndURIs(t *testing.T) {
	p := workloadPolicy(t)
	p.AllowedSubjects = []string{"*.svc.cluster.local"}
	key := newKey(t)
	cr, err := csr.ParseRequestPEM(request{CN: "root", DNS: []string{"a.svc"}}.PEM(t, key))
	if err != nil {
		t.Fatal(err)
	}
	if err := sign.PolicyValidate(&p, cr, servingUsages); err == nil || !strings.Contains(err.Error(), `common name "root"`) {
		t.Errorf("CN outside AllowedSubjects: %v", err)
	}
	cr.Subject.CommonName = "web.ns.svc.cluster.local"
	if err := sign.PolicyValidate(&p, cr, servingUsages); err != nil {
		t.Errorf("CN inside AllowedSubjects: %v", err)
	}
	spiffe, _ := url.Parse("spiffe://cluster.local/ns/a/sa/b")
	reqPEM, err := csr.NewRequest(csr.RequestOptions{DNSNames: []string{"a.svc"}, URIs: []*url.URL{spiffe}}, key)
	if err != nil {
		t.Fatal(err)
	}
	if cr, err = csr.ParseRequestPEM(reqPEM); err != nil {
		t.Fatal(err)
	}
	if err := sign.PolicyValidate(&p, cr, servingUsages); err == nil || !strings.Contains(err.Error(), "spiffe://cluster.local/ns/a/sa/b") {
		t.Errorf("URI without AllowURIs: %v, want an error naming the URI", err)
	}
	p.AllowURIs = true
	if err := sign.PolicyValidate(&p, cr, servingUsages); err != nil {
		t.Errorf("URI with AllowURIs: %v", err)
	}
}

func TestSignerPolicyCheck(t *testing.T) {
	for _, tc := range []struct {
		name    string
		edit    func(*sign.SignerPolicy)
		wantErr string
	}{
		{name: "valid", edit: func(*sign.SignerPolicy) {}},
		{name: "no name", edit: func(p *sign.SignerPolicy) { p.SignerName = "" }, wantErr: "empty signer name"},
		{name: "unqualified name", edit: func(p *sign.SignerPolicy) { p.SignerName = "serving" }, wantErr: "<domain>/<path>"},
		{name: "built-in name", edit: func(p *sign.SignerPolicy) { p.SignerName = certificatesv1.KubeletServingSignerName }, wantErr: "reserved"},
		{name: "kubernetes.io name", edit: func(p *sign.SignerPolicy) { p.SignerName = "kubernetes.io/mine" }, wantErr: "reserved"},
		{name: "no CA", edit: func(p *sign.SignerPolicy) { p.CA = nil }, wantErr: "no CA"},
		{name: "negative duration", edit: func(p *sign.SignerPolicy) { p.MaxDuration = -time.Hour }, wantErr: "negative"},
		{name: "unknown usage", edit: func(p *sign.SignerPolicy) { p.AllowedUsages = []certificatesv1.KeyUsage{"teleport"} }, wantErr: "teleport"},
		{name: "bad suffix", edit: func(p *sign.SignerPolicy) { p.AllowedDNSSuffixes = []string{"*svc"} }, wantErr: `"*svc"`},
		{name: "empty suffix", edit: func(p *sign.SignerPolicy) { p.AllowedDNSSuffixes = []string{"."} }, wantErr: `"."`},
		{name: "invalid range", edit: func(p *sign.SignerPolicy) { p.AllowedIPRanges = []netip.Prefix{{}} }, wantErr: "invalid IP range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := workloadPolicy(t)
			tc.edit(&p)
			err := sign.PolicyCheck(&p)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Check: %v, want an error containing %q", err, tc.wantErr)
			}
			if _, err := sign.NewSigner(sign.SignerOptions{CustomSigners: []sign.SignerPolicy{p}}); err == nil {
				t.Error("NewSigner accepted the policy Check refuses")
			}
		})
	}
}

func TestNewSignerCustomSigners(t *testing.T) {
	p := workloadPolicy(t)
	s, err := sign.NewSigner(sign.SignerOptions{CustomSigners: []sign.SignerPolicy{p}, SigningDuration: 12 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Handles(workloadSigner) || s.Handles(certificatesv1.KubeletServingSignerName) {
		t.Errorf("Handles: custom %v, kubelet-serving %v; want true, false", s.Handles(workloadSigner), s.Handles(certificatesv1.KubeletServingSignerName))
	}
	got, ok := sign.SignerPolicyOf(s, workloadSigner)
	if !ok || got.MaxDuration != 12*time.Hour {
		t.Errorf("Policy: %v %v, want MaxDuration lowered to the signing duration 12h", got.MaxDuration, ok)
	}
	if _, err := sign.NewSigner(sign.SignerOptions{CustomSigners: []sign.SignerPolicy{p, p}}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate custom signer: %v", err)
	}
}

func TestSignerPolicyIssueDuration(t *testing.T) {
	p := workloadPolicy(t) // MaxDuration 24h
	key := newKey(t)
	reqPEM := request{CN: "web", DNS: []string{"web.ns.svc.cluster.local"}}.PEM(t, key)
	now := time.Now()
	for _, tc := range []struct {
		name  string
		asked *int32
		want  time.Duration // NotAfter - now
	}{
		{"unset takes the max", nil, 24*time.Hour - 5*time.Minute},
		{"above the max is capped", int32p(int32((48 * time.Hour).Seconds())), 24*time.Hour - 5*time.Minute},
		{"below the floor gets 10m", int32p(60), 10 * time.Minute},
		{"as asked", int32p(3600), time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ca, _ := p.CA.Current()
			certPEM, err := sign.PolicyIssue(&p, ca, csrObject("x", workloadSigner, reqPEM, servingUsages, tc.asked), now)
			if err != nil {
				t.Fatal(err)
			}
			cert := parseCert(t, certPEM)
			if got := cert.NotAfter.Sub(now.Truncate(time.Second)); got < tc.want-time.Second || got > tc.want+time.Second {
				t.Errorf("lifetime %s, want %s", got, tc.want)
			}
			if err := cert.CheckSignatureFrom(ca.Cert); err != nil {
				t.Errorf("not signed by the policy's CA: %v", err)
			}
			if cert.IsCA || cert.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
				t.Errorf("IsCA %v, ext key usages %v", cert.IsCA, cert.ExtKeyUsage)
			}
		})
	}
	if _, err := sign.PolicyIssue(&p, nil, csrObject("x", workloadSigner, reqPEM, servingUsages, nil), now); err == nil {
		t.Error("Issue without a CA succeeded")
	}
	ca, _ := p.CA.Current()
	if _, err := sign.PolicyIssue(&p, ca, csrObject("x", "example.com/other", reqPEM, servingUsages, nil), now); err == nil {
		t.Error("Issue for another signer succeeded")
	}
}

// TestSignCustomSigner runs custom-signer requests through the real API server: an
// approved request inside the policy is issued by the policy's CA; one outside gets
// condition Failed, reason SignerValidationFailure, with a message naming what is wrong.
func TestSignCustomSigner(t *testing.T) {
	testenv.Need(t)
	ctx := context.Background()
	client := kubernetes.NewForConfigOrDie(cp.Config)
	p := workloadPolicy(t)
	s, err := sign.NewSigner(sign.SignerOptions{CustomSigners: []sign.SignerPolicy{p}})
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := p.CA.Current()
	for _, tc := range []struct {
		name    string
		req     request
		usages  []certificatesv1.KeyUsage
		want    sign.Outcome
		message string
	}{
		{name: "inside", req: request{CN: "web", DNS: []string{"web.ns.svc.cluster.local"}, IPs: []net.IP{net.ParseIP("10.96.0.20")}}, usages: servingUsages, want: sign.Signed},
		{name: "dns outside", req: request{CN: "web", DNS: []string{"web.example.net"}}, usages: servingUsages, want: sign.Failed, message: `DNS name "web.example.net"`},
		{name: "ip outside", req: request{CN: "web", IPs: []net.IP{net.ParseIP("8.8.8.8")}}, usages: servingUsages, want: sign.Failed, message: "IP address 8.8.8.8"},
		{name: "usage", req: request{CN: "web", DNS: []string{"a.svc"}}, usages: []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}, want: sign.Failed, message: `usage "client auth"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := create(t, client, csrObject(uniqueName(t), workloadSigner, tc.req.PEM(t, newKey(t)), tc.usages, nil))
			obj = setCondition(t, client, obj, certificatesv1.CertificateApproved)
			written, res, err := s.Sign(ctx, client, obj)
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tc.want {
				t.Fatalf("outcome %s (%s), want %s", res.Outcome, res.Message, tc.want)
			}
			if tc.want == sign.Signed {
				if err := parseCert(t, written.Status.Certificate).CheckSignatureFrom(ca.Cert); err != nil {
					t.Errorf("certificate not from the custom signer's CA: %v", err)
				}
				return
			}
			var failed *certificatesv1.CertificateSigningRequestCondition
			for i, c := range written.Status.Conditions {
				if c.Type == certificatesv1.CertificateFailed {
					failed = &written.Status.Conditions[i]
				}
			}
			if failed == nil || failed.Reason != sign.ReasonSignerValidationFailure || !strings.Contains(failed.Message, tc.message) {
				t.Fatalf("conditions %+v, want Failed/%s naming %s", written.Status.Conditions, sign.ReasonSignerValidationFailure, tc.message)
			}
			if len(written.Status.Certificate) > 0 {
				t.Error("a certificate was issued for a request outside the policy")
			}
		})
	}
}
