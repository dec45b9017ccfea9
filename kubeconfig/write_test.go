package kubeconfig_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlsbootstrap/tlsbootstrap/token"

	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
)

func TestWriteAndLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bootstrap-kubeconfig")
	cfg, err := kubeconfig.BootstrapConfig(kubeconfig.BootstrapOptions{Server: "https://10.0.0.1:6443", CAData: []byte("CA"), Token: token.NewSecret("abcdef.0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	if err := kubeconfig.Write(path, cfg); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", info.Mode().Perm(), err)
	}
	back, err := kubeconfig.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.CurrentContext != "bootstrap" || back.AuthInfos["kubelet-bootstrap"].Token != "abcdef.0123456789abcdef" ||
		back.Clusters["bootstrap"].Server != "https://10.0.0.1:6443" || string(back.Clusters["bootstrap"].CertificateAuthorityData) != "CA" {
		t.Fatalf("round trip changed the config: %+v", back)
	}
	if err := kubeconfig.Write(path, nil); err == nil {
		t.Fatal("Write(nil) gave no error")
	}
	if _, err := kubeconfig.Load(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("Load of a missing file: %v", err)
	}
	if _, err := kubeconfig.Parse([]byte("clusters: [")); err == nil {
		t.Fatal("Parse of broken YAML gave no error")
	}
}
