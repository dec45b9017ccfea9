package conformance

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"net/url"
	"slices"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// reasonSignerValidationFailure is the Failed condition's reason for a CSR the signer
// refuses.
const reasonSignerValidationFailure = "SignerValidationFailure"

// builtinRequests returns a valid request for each built-in signer the suite checks.
func builtinRequests(t *caseT) map[string]csrRequest {
	nodeName := t.uniqueName("node")
	return map[string]csrRequest{
		certificatesv1.KubeAPIServerClientKubeletSignerName: nodeClientRequest(nodeName),
		certificatesv1.KubeletServingSignerName:             servingRequest(nodeName, []string{nodeName}, []net.IP{net.ParseIP("10.0.0.1")}),
		certificatesv1.KubeAPIServerClientSignerName: {
			Subject:    pkix.Name{CommonName: "conformance-user", Organization: []string{"conformance:group"}},
			SignerName: certificatesv1.KubeAPIServerClientSignerName,
			Usages:     clientUsages,
		},
	}
}

// signerNames in a fixed order, for stable messages.
var signerNames = []string{
	certificatesv1.KubeAPIServerClientKubeletSignerName,
	certificatesv1.KubeletServingSignerName,
	certificatesv1.KubeAPIServerClientSignerName,
}

func signerCases() []testCase {
	return []testCase{
		{
			Name: "issues-only-approved", Profile: ProfileSigner, Core: true,
			Description: "each built-in signer issues a certificate for an approved CSR and none for a pending one",
			Run: func(ctx context.Context, t *caseT) {
				who := t.plainRequester(ctx, grantCreateCSR)
				reqs := builtinRequests(t)
				var pending []string
				for _, signer := range signerNames {
					pending = append(pending, t.mustSubmitCSR(ctx, who, reqs[signer]).Name)
					t.issue(ctx, who, reqs[signer])
				}
				t.observeCSRs(ctx, "pending CSRs to get no certificate", pending, t.unsigned)
			},
		},
		{
			Name: "subject-and-sans-copied", Profile: ProfileSigner, Core: true,
			Description: "the certificate's subject (CN, O) and SANs (DNS, IP, email, URI) are the request's",
			Run: func(ctx context.Context, t *caseT) {
				who := t.plainRequester(ctx, grantCreateCSR)
				nodeName := t.uniqueName("node")
				serving := servingRequest(nodeName, []string{nodeName, nodeName + ".example.com"}, []net.IP{net.ParseIP("10.0.0.1"), net.ParseIP("fd00::1")})
				client := csrRequest{
					Subject:        pkix.Name{CommonName: "conformance-user", Organization: []string{"conformance:a", "conformance:b"}},
					EmailAddresses: []string{"user@example.com"},
					URIs:           []*url.URL{{Scheme: "spiffe", Host: "example.com", Path: "/conformance"}},
					SignerName:     certificatesv1.KubeAPIServerClientSignerName,
					Usages:         clientUsages,
				}
				for _, r := range []csrRequest{serving, client} {
					_, cert := t.issue(ctx, who, r)
					expectCopied(t, r, cert)
				}
			},
		},
		{
			Name: "key-usages", Profile: ProfileSigner, Core: true,
			Description: "the certificate's key usages and extended key usages are exactly spec.usages, and it is not a CA",
			Run: func(ctx context.Context, t *caseT) {
				who := t.plainRequester(ctx, grantCreateCSR)
				reqs := builtinRequests(t)
				for _, signer := range signerNames {
					for _, withKeyEncipherment := range []bool{false, true} {
						r := reqs[signer]
						if withKeyEncipherment {
							r.Usages = append([]certificatesv1.KeyUsage{certificatesv1.UsageKeyEncipherment}, r.Usages...)
						}
						_, cert := t.issue(ctx, who, r)
						expectUsages(t, signer, r.Usages, cert)
					}
				}
			},
		},
		{
			Name: "chains-to-configured-ca", Profile: ProfileSigner, Core: true,
			Description: "each built-in signer's certificate verifies against the CA the signer is configured with",
			Run: func(ctx context.Context, t *caseT) {
				roots := t.configuredCA()
				who := t.plainRequester(ctx, grantCreateCSR)
				reqs := builtinRequests(t)
				for _, signer := range signerNames {
					_, cert := t.issue(ctx, who, reqs[signer])
					if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
						t.Errorf("expected the %s certificate (issuer %q) to chain to the configured CA; verification failed: %v", signer, cert.Issuer, err)
					}
				}
			},
		},
		{
			Name: "unique-serials", Profile: ProfileSigner, Core: true,
			Description: "serial numbers are positive, random-sized (more than 64 bits) and never repeat",
			Run: func(ctx context.Context, t *caseT) {
				who := t.plainRequester(ctx, grantCreateCSR)
				seen := map[string]string{}
				for i := 0; i < 5; i++ {
					s, cert := t.issue(ctx, who, builtinRequests(t)[certificatesv1.KubeAPIServerClientSignerName])
					serial := cert.SerialNumber
					if serial.Sign() <= 0 || serial.BitLen() <= 64 {
						t.Errorf("expected a positive serial of more than 64 bits; CSR %s got %s (%d bits)", s.Name, serial, serial.BitLen())
					}
					if other, dup := seen[serial.String()]; dup {
						t.Errorf("expected unique serials; CSRs %s and %s both got %s", other, s.Name, serial)
					}
					seen[serial.String()] = s.Name
				}
			},
		},
		{
			Name: "duration-table", Profile: ProfileSigner, Core: true,
			Description: "certificate lifetimes follow expirationSeconds as kube-controller-manager's signer does (pkg/controller/certificates/signer), and expirationSeconds under 600 is rejected at create",
			Run:         runDurationTable,
		},
		{
			Name: "bad-usages-failed", Profile: ProfileSigner, Core: true,
			Description: "an approved CSR whose usages its signer forbids gets Failed/SignerValidationFailure and no certificate",
			Run: func(ctx context.Context, t *caseT) {
				who := t.plainRequester(ctx, grantCreateCSR)
				reqs := builtinRequests(t)
				bad := map[string][]certificatesv1.KeyUsage{
					certificatesv1.KubeAPIServerClientKubeletSignerName: append(slices.Clone(clientUsages), certificatesv1.UsageServerAuth),
					certificatesv1.KubeletServingSignerName:             append(slices.Clone(servingUsages), certificatesv1.UsageClientAuth),
					certificatesv1.KubeAPIServerClientSignerName:        servingUsages,
				}
				var names []string
				for _, signer := range signerNames {
					r := reqs[signer]
					r.Usages = bad[signer]
					s := t.mustSubmitCSR(ctx, who, r)
					t.decide(ctx, s.Name, true)
					names = append(names, s.Name)
				}
				for i, name := range names {
					t.Eventually(ctx, fmt.Sprintf("CSR %s (%s, usages %v) to get Failed/%s and no certificate", name, signerNames[i], bad[signerNames[i]], reasonSignerValidationFailure),
						func(ctx context.Context) (bool, string, error) {
							obj, err := t.getCSR(ctx, name)
							if err != nil {
								return false, err.Error(), nil
							}
							if len(obj.Status.Certificate) > 0 {
								return false, describeCSR(obj), fmt.Errorf("a certificate was issued: %s", describeCSR(obj))
							}
							c := findCondition(obj, certificatesv1.CertificateFailed)
							return c != nil && c.Reason == reasonSignerValidationFailure, describeCSR(obj), nil
						})
				}
			},
		},
		{
			Name: "denied-not-signed", Profile: ProfileSigner, Core: true,
			Description: "a Denied CSR gets no certificate",
			Run: func(ctx context.Context, t *caseT) {
				who := t.plainRequester(ctx, grantCreateCSR)
				var denied []string
				for _, signer := range signerNames {
					s := t.mustSubmitCSR(ctx, who, builtinRequests(t)[signer])
					t.decide(ctx, s.Name, false)
					denied = append(denied, s.Name)
				}
				t.issue(ctx, who, builtinRequests(t)[certificatesv1.KubeAPIServerClientSignerName]) // the signer is working
				t.observeCSRs(ctx, "Denied CSRs to get no certificate", denied, t.unsigned)
			},
		},
		{
			Name: "foreign-signer-ignored", Profile: ProfileSigner, Core: true,
			Description: "an approved CSR for a signer outside kubernetes.io gets neither a certificate nor a Failed condition",
			Run: func(ctx context.Context, t *caseT) {
				who := t.plainRequester(ctx, grantCreateCSR)
				r := builtinRequests(t)[certificatesv1.KubeAPIServerClientSignerName]
				r.SignerName = "example.com/tlsbootstrap-conformance"
				s := t.mustSubmitCSR(ctx, who, r)
				t.decide(ctx, s.Name, true)
				t.issue(ctx, who, builtinRequests(t)[certificatesv1.KubeAPIServerClientSignerName])
				t.observeCSRs(ctx, "an approved foreign-signer CSR to be left alone", []string{s.Name}, t.unsigned)
			},
		},
	}
}

// configuredCA parses Options.CACertPEM, skipping the case when it is absent.
func (t *caseT) configuredCA() *x509.CertPool {
	if len(t.Options.CACertPEM) == 0 {
		t.Skipf("no CA certificate configured (Options.CACertPEM / --ca-cert): cannot check the chain")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(t.Options.CACertPEM) {
		t.Fatalf("Options.CACertPEM holds no PEM certificate")
	}
	return pool
}

func expectCopied(t *caseT, r csrRequest, cert *x509.Certificate) {
	if cert.Subject.CommonName != r.Subject.CommonName || !slices.Equal(cert.Subject.Organization, r.Subject.Organization) {
		t.Errorf("expected subject CN=%q O=%v; certificate has CN=%q O=%v", r.Subject.CommonName, r.Subject.Organization, cert.Subject.CommonName, cert.Subject.Organization)
	}
	if !slices.Equal(cert.DNSNames, r.DNSNames) {
		t.Errorf("expected DNS SANs %v; certificate has %v", r.DNSNames, cert.DNSNames)
	}
	if !slices.EqualFunc(cert.IPAddresses, r.IPAddresses, func(a, b net.IP) bool { return a.Equal(b) }) {
		t.Errorf("expected IP SANs %v; certificate has %v", r.IPAddresses, cert.IPAddresses)
	}
	if !slices.Equal(cert.EmailAddresses, r.EmailAddresses) {
		t.Errorf("expected email SANs %v; certificate has %v", r.EmailAddresses, cert.EmailAddresses)
	}
	if !slices.EqualFunc(cert.URIs, r.URIs, func(a, b *url.URL) bool { return a.String() == b.String() }) {
		t.Errorf("expected URI SANs %v; certificate has %v", r.URIs, cert.URIs)
	}
}

var (
	keyUsageBits = map[certificatesv1.KeyUsage]x509.KeyUsage{
		certificatesv1.UsageDigitalSignature: x509.KeyUsageDigitalSignature,
		certificatesv1.UsageKeyEncipherment:  x509.KeyUsageKeyEncipherment,
	}
	extKeyUsages = map[certificatesv1.KeyUsage]x509.ExtKeyUsage{
		certificatesv1.UsageClientAuth: x509.ExtKeyUsageClientAuth,
		certificatesv1.UsageServerAuth: x509.ExtKeyUsageServerAuth,
	}
)

func expectUsages(t *caseT, signer string, usages []certificatesv1.KeyUsage, cert *x509.Certificate) {
	var wantKU x509.KeyUsage
	var wantEKU []x509.ExtKeyUsage
	for _, u := range usages {
		wantKU |= keyUsageBits[u]
		if eku, ok := extKeyUsages[u]; ok {
			wantEKU = append(wantEKU, eku)
		}
	}
	gotEKU := slices.Clone(cert.ExtKeyUsage)
	slices.Sort(gotEKU)
	slices.Sort(wantEKU)
	if cert.KeyUsage != wantKU || !slices.Equal(gotEKU, wantEKU) {
		t.Errorf("%s, usages %v: expected key usage bits %b and extended %v; certificate has %b and %v", signer, usages, wantKU, wantEKU, cert.KeyUsage, cert.ExtKeyUsage)
	}
	if !cert.BasicConstraintsValid || cert.IsCA {
		t.Errorf("%s: expected basic constraints CA:false; certificate has valid=%t CA=%t", signer, cert.BasicConstraintsValid, cert.IsCA)
	}
}

// durationRow is one expirationSeconds asked for.
type durationRow struct {
	label string
	asked *time.Duration // nil: unset
}

// expectedLifetime is NotAfter−NotBefore for asked under a signer whose longest
// lifetime is max: the TTL is asked capped at max (and raised to 10m); NotBefore is
// backdated 5m; a TTL of 8h or more has the backdate taken off its end.
func expectedLifetime(asked *time.Duration, max time.Duration) time.Duration {
	ttl := max
	if asked != nil && *asked < max {
		ttl = *asked
	}
	ttl = maxDuration(ttl, 10*time.Minute)
	if ttl < 8*time.Hour {
		return ttl + 5*time.Minute
	}
	return ttl
}

func maxDuration(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

func durationPtr(d time.Duration) *time.Duration { return &d }

func runDurationTable(ctx context.Context, t *caseT) {
	max := t.Options.SigningDuration
	rows := []durationRow{{label: "unset"}}
	for _, d := range []time.Duration{2 * max, max, 20 * time.Hour, 10 * time.Hour, 2 * time.Hour, 30 * time.Minute, 10 * time.Minute} {
		if d <= 2*max && d/time.Second <= 1<<31-1 {
			rows = append(rows, durationRow{label: d.String(), asked: durationPtr(d)})
		}
	}
	who := t.plainRequester(ctx, grantCreateCSR)
	base := builtinRequests(t)[certificatesv1.KubeAPIServerClientSignerName]
	var caNotAfter time.Time
	if len(t.Options.CACertPEM) > 0 {
		if ca, err := firstCertificate(t.Options.CACertPEM); err == nil {
			caNotAfter = ca.NotAfter
		}
	}
	type issued struct {
		row  durationRow
		name string
	}
	var all []issued
	for _, row := range rows {
		r := base
		if row.asked != nil {
			r.ExpirationSeconds = seconds32(*row.asked)
		}
		s := t.mustSubmitCSR(ctx, who, r)
		t.decide(ctx, s.Name, true)
		all = append(all, issued{row, s.Name})
	}
	for _, is := range all {
		cert := t.waitCertificate(ctx, is.name)
		want := expectedLifetime(is.row.asked, max)
		if !caNotAfter.IsZero() && cert.NotBefore.Add(want).After(caNotAfter) {
			want = caNotAfter.Sub(cert.NotBefore) // clamped to the CA's own expiry
		}
		if got := cert.NotAfter.Sub(cert.NotBefore); got != want {
			t.Errorf("expirationSeconds %s with a %s signer: expected a lifetime (NotAfter−NotBefore) of %s; got %s", is.row.label, max, want, got)
		}
		obj, err := t.getCSR(ctx, is.name)
		if err == nil {
			created := obj.CreationTimestamp.Time
			if early, late := created.Add(-5*time.Minute-2*time.Second), created.Add(-5*time.Minute+time.Minute); cert.NotBefore.Before(early) || cert.NotBefore.After(late) {
				t.Errorf("expirationSeconds %s: expected NotBefore backdated 5m from signing (about %s); got %s", is.row.label, created.Add(-5*time.Minute).UTC(), cert.NotBefore.UTC())
			}
		}
	}
	for _, secs := range []int32{599, 180, -420} {
		r := base
		r.ExpirationSeconds = &secs
		s, err := t.submitCSR(ctx, who, r)
		if err == nil {
			t.Errorf("expected expirationSeconds %d to be rejected at create; CSR %s was created", secs, s.Name)
		} else if !apierrors.IsInvalid(err) {
			t.Errorf("expected expirationSeconds %d to be rejected as Invalid; the API server answered: %v", secs, err)
		}
	}
}
