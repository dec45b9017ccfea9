package main

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
)

// TestServingPolicyFlags: the flags build the policy, override the file's fields one by
// one, and bad values are refused naming the flag or field.
func TestServingPolicyFlags(t *testing.T) {
	file := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(file, []byte("defaultMode: Audit\nmaxSANs: 4\nforbiddenCIDRs: [198.51.100.0/24]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"--kubeconfig=x"}
	for _, tc := range []struct {
		name    string
		args    []string
		want    approve.ServingPolicy
		wantErr string
	}{
		{name: "defaults", want: approve.ServingPolicy{}},
		{name: "flags", args: []string{"--serving-policy-mode=Audit", "--serving-rules=UniqueAddress=Disabled,DNSName=Enforce",
			"--cluster-domain=corp.local", "--serving-forbidden-cidrs=203.0.113.0/24", "--serving-allowed-dns-suffixes=example.com",
			"--serving-max-sans=3", "--serving-max-expiration-seconds=3600"},
			want: approve.ServingPolicy{DefaultMode: approve.ModeAudit,
				Rules:         map[approve.ServingRule]approve.RuleMode{approve.RuleUniqueAddress: approve.ModeDisabled, approve.RuleDNSName: approve.ModeEnforce},
				ClusterDomain: "corp.local", ForbiddenCIDRs: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")},
				AllowedDNSSuffixes: []string{"example.com"}, MaxSANs: 3, MaxExpirationSeconds: 3600}},
		{name: "file, one field overridden", args: []string{"--serving-policy-file=" + file, "--serving-max-sans=6"},
			want: approve.ServingPolicy{DefaultMode: approve.ModeAudit, MaxSANs: 6, ForbiddenCIDRs: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}}},
		{name: "bad prefix", args: []string{"--serving-pod-cidrs=10.244.0.0/33"}, wantErr: "--serving-pod-cidrs"},
		{name: "not Rule=Mode", args: []string{"--serving-rules=UniqueAddress"}, wantErr: "--serving-rules"},
		{name: "unknown rule", args: []string{"--serving-rules=Nope=Audit"}, wantErr: `unknown rule "Nope"`},
		{name: "bad mode", args: []string{"--serving-policy-mode=Loud"}, wantErr: "defaultMode"},
		{name: "missing file", args: []string{"--serving-policy-file=" + file + ".missing"}, wantErr: "serving policy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := parse(context.Background(), append(base, tc.args...))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one naming %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, f.opts.ServingPolicy, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("policy (-want +got):\n%s", diff)
			}
		})
	}
}
