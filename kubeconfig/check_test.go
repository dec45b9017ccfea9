package kubeconfig_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/token"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/tlsbootstrap/tlsbootstrap/internal/atomicfile"
	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
)

func TestCheck(t *testing.T) {
	ca, err := controlplane.NewCA("check-test-ca")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	valid := func() ([]byte, []byte) {
		return clientCert(t, ca, "system:node:n1", []string{"system:nodes"}, now.Add(-time.Hour), now.Add(time.Hour))
	}
	certPEM, keyPEM := valid()
	_, otherKey := valid()
	expiredCert, expiredKey := clientCert(t, ca, "system:node:n1", []string{"system:nodes"}, now.Add(-2*time.Hour), now.Add(-time.Hour))
	futureCert, futureKey := clientCert(t, ca, "system:node:n1", []string{"system:nodes"}, now.Add(time.Hour), now.Add(2*time.Hour))

	// write lays out one case's files in dir and returns the kubeconfig path.
	type layout func(t *testing.T, dir string) string
	nodeWith := func(pem []byte) layout {
		return func(t *testing.T, dir string) string {
			writeFile(t, filepath.Join(dir, "pki", "kubelet-client-2030-01-02-03-04-05.pem"), pem)
			if err := os.Symlink("kubelet-client-2030-01-02-03-04-05.pem", filepath.Join(dir, "pki", kubeconfig.CurrentClientFile)); err != nil {
				t.Fatal(err)
			}
			cfg, err := kubeconfig.NodeConfig(kubeconfig.NodeOptions{Server: "https://10.0.0.1:6443", CAData: ca.CertPEM, CertDir: filepath.Join(dir, "pki")})
			if err != nil {
				t.Fatal(err)
			}
			return writeConfig(t, dir, cfg)
		}
	}
	withAuth := func(a *clientcmdapi.AuthInfo) layout {
		return func(t *testing.T, dir string) string {
			cfg, err := kubeconfig.BootstrapConfig(kubeconfig.BootstrapOptions{Server: "https://10.0.0.1:6443", Token: token.NewSecret("x")})
			if err != nil {
				t.Fatal(err)
			}
			cfg.AuthInfos[kubeconfig.DefaultBootstrapUser] = a
			return writeConfig(t, dir, cfg)
		}
	}
	cat := func(a, b []byte) []byte { return append(append([]byte{}, a...), b...) }

	tests := []struct {
		name    string
		layout  layout
		wantErr error  // sentinel, or nil
		wantMsg string // "" = usable
		status  bool   // a Status is expected
	}{
		{name: "node kubeconfig, current symlink", layout: nodeWith(cat(certPEM, keyPEM)), status: true},
		{name: "embedded certificate and key", layout: withAuth(&clientcmdapi.AuthInfo{ClientCertificateData: certPEM, ClientKeyData: keyPEM}), status: true},
		{name: "relative certificate and key files", layout: func(t *testing.T, dir string) string {
			writeFile(t, filepath.Join(dir, "c.pem"), certPEM)
			writeFile(t, filepath.Join(dir, "k.pem"), keyPEM)
			return withAuth(&clientcmdapi.AuthInfo{ClientCertificate: "c.pem", ClientKey: "k.pem"})(t, dir)
		}, status: true},
		{name: "expired", layout: nodeWith(cat(expiredCert, expiredKey)), wantErr: kubeconfig.ErrExpired, wantMsg: "NotAfter 2030-01-02T02:04:05Z", status: true},
		{name: "not valid yet", layout: nodeWith(cat(futureCert, futureKey)), wantErr: kubeconfig.ErrNotYetValid, wantMsg: "clock", status: true},
		{name: "key of another certificate", layout: nodeWith(cat(certPEM, otherKey)), wantErr: kubeconfig.ErrKeyMismatch, wantMsg: "does not match", status: true},
		{name: "token only", layout: withAuth(&clientcmdapi.AuthInfo{Token: "abcdef.0123456789abcdef"}), wantErr: kubeconfig.ErrNoClientCertificate, wantMsg: "no client certificate"},
		{name: "no key", layout: withAuth(&clientcmdapi.AuthInfo{ClientCertificateData: certPEM}), wantMsg: "client-key"},
		{name: "certificate file missing", layout: func(t *testing.T, dir string) string {
			cfg, err := kubeconfig.NodeConfig(kubeconfig.NodeOptions{Server: "https://a", CertDir: filepath.Join(dir, "pki")})
			if err != nil {
				t.Fatal(err)
			}
			return writeConfig(t, dir, cfg)
		}, wantErr: fs.ErrNotExist, wantMsg: kubeconfig.CurrentClientFile},
		{name: "certificate garbage", layout: nodeWith([]byte("garbage")), wantMsg: "client certificate"},
		{name: "kubeconfig garbage", layout: func(t *testing.T, dir string) string {
			return writeFile(t, filepath.Join(dir, "kubeconfig"), []byte("clusters: ["))
		}, wantMsg: "kubeconfig"},
		{name: "kubeconfig missing", layout: func(t *testing.T, dir string) string { return filepath.Join(dir, "kubeconfig") }, wantErr: fs.ErrNotExist, wantMsg: "kubeconfig"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.layout(t, t.TempDir())
			st, err := kubeconfig.Check(path, now)
			if (st != nil) != tc.status {
				t.Errorf("status %+v, want one: %v", st, tc.status)
			}
			if tc.wantMsg == "" {
				if err != nil {
					t.Fatal(err)
				}
				if st.Subject != "CN=system:node:n1,O=system:nodes" || !st.NotAfter.Equal(now.Add(time.Hour)) || st.Server != "https://10.0.0.1:6443" {
					t.Errorf("status %+v", st)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantMsg) || !strings.Contains(err.Error(), path) {
				t.Fatalf("got %v, want an error naming %s containing %q", err, path, tc.wantMsg)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %v, want errors.Is %v", err, tc.wantErr)
			}
		})
	}
}

func writeFile(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeConfig(t *testing.T, dir string, cfg *clientcmdapi.Config) string {
	t.Helper()
	path := filepath.Join(dir, "kubeconfig")
	if err := kubeconfig.Write(path, cfg); err != nil {
		t.Fatal(err)
	}
	return path
}
