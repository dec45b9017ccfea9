package tokenctl_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlsbootstrap/tlsbootstrap/internal/tokenfile"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// TestBootstrapKubeconfig writes bootstrap kubeconfigs with the command and proves that
// each loads and authenticates at the real server as the token's identity.
func TestBootstrapKubeconfig(t *testing.T) {
	bootstrap := newToken(t)
	entries, _, err := tokenfile.Read(strings.NewReader(staticLine))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, bearer, wantUser string
	}{
		{"bootstrap token", bootstrap.Reveal(), token.UserPrefix + bootstrap.ID},
		{"static token", entries[0].Token, staticIdentity.User},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bootstrap.kubeconfig")
			out := mustRun(t, "bootstrap-kubeconfig", "--server="+cp.Host(), "--ca-file="+caFile(t), "--token="+tc.bearer, "--out="+path)
			if !strings.Contains(out, path) || strings.Contains(out, tc.bearer) {
				t.Errorf("output %q should name the file and not show the token", out)
			}
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if info.Mode().Perm() != 0o600 {
				t.Errorf("mode %04o, want 0600", info.Mode().Perm())
			}
			cfg, err := kubeconfig.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			cluster := cfg.Clusters[cfg.Contexts[cfg.CurrentContext].Cluster]
			if cluster == nil || cluster.CertificateAuthority != "" || string(cluster.CertificateAuthorityData) != string(cp.ServingCAPEM()) {
				t.Errorf("the CA is not embedded from --ca-file: %+v", cluster)
			}
			rest, err := kubeconfig.RESTConfig(path)
			if err != nil {
				t.Fatal(err)
			}
			user, err := whoAmI(t, rest)
			if err != nil {
				t.Fatalf("the written kubeconfig does not authenticate: %v", err)
			}
			if user.Username != tc.wantUser {
				t.Errorf("authenticates as %q, want %q", user.Username, tc.wantUser)
			}
		})
	}
}

func TestBootstrapKubeconfigErrors(t *testing.T) {
	dir := t.TempDir()
	ca := caFile(t)
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	const tok = "abcdef.0123456789abcdef"
	out := filepath.Join(dir, "out.kubeconfig")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no server", []string{"--ca-file=" + ca, "--token=" + tok, "--out=" + out}, "--server is required"},
		{"no CA", []string{"--server=https://x", "--token=" + tok, "--out=" + out}, "--ca-file is required"},
		{"no token", []string{"--server=https://x", "--ca-file=" + ca, "--out=" + out}, "--token is required"},
		{"no out", []string{"--server=https://x", "--ca-file=" + ca, "--token=" + tok}, "--out is required"},
		{"missing CA file", []string{"--server=https://x", "--ca-file=" + filepath.Join(dir, "none"), "--token=" + tok, "--out=" + out}, "reading --ca-file"},
		{"CA file without certificates", []string{"--server=https://x", "--ca-file=" + notPEM, "--token=" + tok, "--out=" + out}, "--ca-file " + notPEM},
		{"malformed bootstrap token", []string{"--server=https://x", "--ca-file=" + ca, "--token=abcdef.short", "--out=" + out}, "--token: invalid bootstrap token"},
		{"static token with a space", []string{"--server=https://x", "--ca-file=" + ca, "--token=a b", "--out=" + out}, "--token: a static token cannot hold"},
		{"server without scheme", []string{"--server=10.0.0.1:6443", "--ca-file=" + ca, "--token=" + tok, "--out=" + out}, "bootstrap kubeconfig"},
		{"out in a missing folder", []string{"--server=https://x", "--ca-file=" + ca, "--token=" + tok, "--out=" + filepath.Join(dir, "no", "such", "k")}, "bootstrap-kubeconfig"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := run(t, append([]string{"bootstrap-kubeconfig"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "0123456789abcdef") {
				t.Errorf("error shows the token secret: %v", err)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("a failed command wrote %s", out)
			}
		})
	}
}
