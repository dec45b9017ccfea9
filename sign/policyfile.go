package sign

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// SignerPolicyFile is the YAML (or JSON) form of custom signers read by
// LoadSignerPolicies, e.g.
//
//	signers:
//	- signerName: example.com/workload-serving
//	  caCertFile: workload-ca.crt      # relative paths are relative to this file
//	  caKeyFile: workload-ca.key
//	  allowedUsages: [digital signature, key encipherment, server auth]
//	  maxDuration: 720h
//	  allowedDNSSuffixes: ["*.svc.cluster.local", "*.svc"]
//	  allowedIPRanges: ["10.96.0.0/12"]
type SignerPolicyFile struct {
	Signers []signerPolicySpec `json:"signers"`
}

// signerPolicySpec is one SignerPolicy as written in a file, with its CA as PEM files
// (reloaded when they change, as FileCA does).
type signerPolicySpec struct {
	SignerName          string                    `json:"signerName"`
	CACertFile          string                    `json:"caCertFile"`
	CAKeyFile           string                    `json:"caKeyFile"`
	AllowedUsages       []certificatesv1.KeyUsage `json:"allowedUsages,omitempty"`
	MaxDuration         metav1.Duration           `json:"maxDuration,omitempty"`
	AllowedDNSSuffixes  []string                  `json:"allowedDNSSuffixes,omitempty"`
	AllowedIPRanges     []string                  `json:"allowedIPRanges,omitempty"`
	AllowedSubjects     []string                  `json:"allowedSubjects,omitempty"`
	AllowEmailAddresses bool                      `json:"allowEmailAddresses,omitempty"`
	AllowURIs           bool                      `json:"allowURIs,omitempty"`
}

// LoadSignerPolicies reads a SignerPolicyFile, loads each signer's CA and checks each
// policy. Unknown fields are errors, so a misspelt rule is never silently ignored. The CAs
// reload when their files change, logging to ctx's logger.
func LoadSignerPolicies(ctx context.Context, path string) ([]SignerPolicy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading custom signer config: %w", err)
	}
	var file SignerPolicyFile
	if err := yaml.UnmarshalStrict(data, &file); err != nil {
		return nil, fmt.Errorf("custom signer config %q: %w", path, err)
	}
	dir := filepath.Dir(path)
	policies := make([]SignerPolicy, 0, len(file.Signers))
	for i, spec := range file.Signers {
		p, err := spec.policy(ctx, dir)
		if err != nil {
			return nil, fmt.Errorf("custom signer config %q, signer %d: %w", path, i+1, err)
		}
		policies = append(policies, p)
	}
	return policies, nil
}

func (s signerPolicySpec) policy(ctx context.Context, dir string) (SignerPolicy, error) {
	if s.CACertFile == "" || s.CAKeyFile == "" {
		return SignerPolicy{}, fmt.Errorf("signer %q: caCertFile and caKeyFile are both needed", s.SignerName)
	}
	ranges := make([]netip.Prefix, 0, len(s.AllowedIPRanges))
	for _, r := range s.AllowedIPRanges {
		prefix, err := netip.ParsePrefix(r)
		if err != nil {
			return SignerPolicy{}, fmt.Errorf("signer %q: allowed IP range: %w", s.SignerName, err)
		}
		ranges = append(ranges, prefix.Masked())
	}
	ca, err := NewFileCA(ctx, rel(dir, s.CACertFile), rel(dir, s.CAKeyFile), FileCAOptions{})
	if err != nil {
		return SignerPolicy{}, fmt.Errorf("signer %q: %w", s.SignerName, err)
	}
	p := SignerPolicy{
		SignerName:          s.SignerName,
		CA:                  ca,
		AllowedUsages:       s.AllowedUsages,
		MaxDuration:         s.MaxDuration.Duration,
		AllowedDNSSuffixes:  s.AllowedDNSSuffixes,
		AllowedIPRanges:     ranges,
		AllowedSubjects:     s.AllowedSubjects,
		AllowEmailAddresses: s.AllowEmailAddresses,
		AllowURIs:           s.AllowURIs,
	}
	return p, p.check()
}

func rel(dir, file string) string {
	if filepath.IsAbs(file) {
		return file
	}
	return filepath.Join(dir, file)
}
