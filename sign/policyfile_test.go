package sign_test

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	certificatesv1 "k8s.io/api/certificates/v1"

	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

func TestLoadSignerPolicies(t *testing.T) {
	dir := t.TempDir()
	ca, err := sign.NewSelfSignedCA(sign.SelfSignedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.WriteFiles(filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")); err != nil {
		t.Fatal(err)
	}
	const good = `signers:
- signerName: example.com/workload-serving
  caCertFile: ca.crt
  caKeyFile: ca.key
  allowedUsages: [digital signature, server auth]
  maxDuration: 720h
  allowedDNSSuffixes: ["*.svc.cluster.local"]
  allowedIPRanges: ["10.96.0.0/12", "127.0.0.1/32"]
`
	for _, tc := range []struct {
		name, yaml, wantErr string
	}{
		{name: "good", yaml: good},
		{name: "misspelt field", yaml: strings.Replace(good, "allowedDNSSuffixes", "allowedDNSSufixes", 1), wantErr: "allowedDNSSufixes"},
		{name: "bad range", yaml: strings.Replace(good, "10.96.0.0/12", "10.96.0.0/99", 1), wantErr: "10.96.0.0/99"},
		{name: "missing key file", yaml: strings.Replace(good, "caKeyFile: ca.key", "caKeyFile: nope.key", 1), wantErr: "CA key file"},
		{name: "no key", yaml: strings.Replace(good, "  caKeyFile: ca.key\n", "", 1), wantErr: "caKeyFile"},
		{name: "reserved name", yaml: strings.Replace(good, "example.com/workload-serving", "kubernetes.io/kubelet-serving", 1), wantErr: "reserved"},
		{name: "bad duration", yaml: strings.Replace(good, "720h", "a month", 1), wantErr: "a month"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "signers.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := sign.LoadSignerPolicies(context.Background(), path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("LoadSignerPolicies: %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("%d policies, want 1", len(got))
			}
			p := got[0]
			loaded, err := p.CA.Current()
			if err != nil || !loaded.Cert.Equal(ca.Cert) {
				t.Errorf("CA not loaded from the relative paths: %v", err)
			}
			p.CA = nil
			want := sign.SignerPolicy{
				SignerName:         "example.com/workload-serving",
				AllowedUsages:      []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth},
				MaxDuration:        720 * time.Hour,
				AllowedDNSSuffixes: []string{"*.svc.cluster.local"},
				AllowedIPRanges:    []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12"), netip.MustParsePrefix("127.0.0.1/32")},
			}
			if diff := cmp.Diff(want, p, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("policy (-want +got):\n%s", diff)
			}
		})
	}
}
