package malicious

import (
	"slices"
	"testing"

	certificatesv1 "k8s.io/api/certificates/v1"
)

// TestDeniedBy: the rule of a spoofing case counts when the Denied message names it first
// or among the further rules, and only for an automatic denial.
func TestDeniedBy(t *testing.T) {
	const one = `Denying kubelet serving certificate of node "n" (rule SpecialAddress): IP 127.0.0.1 is a loopback address.`
	const two = `Denying kubelet serving certificate of node "n" (rule APIServerAddress): DNS localhost is the API server's. It also breaks rule(s) DNSName, UniqueAddress.`
	if got := deniedRules(two); !slices.Equal(got, []string{"APIServerAddress", "DNSName", "UniqueAddress"}) {
		t.Errorf("deniedRules = %v", got)
	}
	csrWith := func(conds ...certificatesv1.CertificateSigningRequestCondition) *certificatesv1.CertificateSigningRequest {
		return &certificatesv1.CertificateSigningRequest{Status: certificatesv1.CertificateSigningRequestStatus{Conditions: conds}}
	}
	denied := func(reason, msg string) certificatesv1.CertificateSigningRequestCondition {
		return certificatesv1.CertificateSigningRequestCondition{Type: certificatesv1.CertificateDenied, Reason: reason, Message: msg}
	}
	for _, tc := range []struct {
		name       string
		obj        *certificatesv1.CertificateSigningRequest
		rule       string
		wantDenied bool
		wantOK     bool
	}{
		{"first rule", csrWith(denied("AutoDenied", one)), "SpecialAddress", true, true},
		{"further rule", csrWith(denied("AutoDenied", two)), "DNSName", true, true},
		{"another rule", csrWith(denied("AutoDenied", one)), "UniqueAddress", true, false},
		{"by a person", csrWith(denied("Manual", one)), "SpecialAddress", true, false},
		{"pending", csrWith(), "SpecialAddress", false, false},
		{"approved", csrWith(certificatesv1.CertificateSigningRequestCondition{Type: certificatesv1.CertificateApproved}), "SpecialAddress", false, false},
	} {
		gotDenied, problem := deniedBy(tc.obj, tc.rule)
		if gotDenied != tc.wantDenied || (problem == "") != tc.wantOK {
			t.Errorf("%s: deniedBy = %v, %q; want denied=%v ok=%v", tc.name, gotDenied, problem, tc.wantDenied, tc.wantOK)
		}
	}
}
