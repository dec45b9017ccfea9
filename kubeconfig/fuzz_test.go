package kubeconfig_test

import (
	"github.com/tlsbootstrap/tlsbootstrap/token"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
)

func FuzzLoad(f *testing.F) {
	cfg, err := kubeconfig.BootstrapConfig(kubeconfig.BootstrapOptions{Server: "https://10.0.0.1:6443", CAData: []byte("CA"), Token: token.NewSecret("abcdef.0123456789abcdef")})
	if err != nil {
		f.Fatal(err)
	}
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	node, err := kubeconfig.NodeConfig(kubeconfig.NodeOptions{Server: "https://a", CertDir: "/nonexistent"})
	if err != nil {
		f.Fatal(err)
	}
	if data, err = clientcmd.Write(*node); err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte("apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    client-certificate-data: AAAA\n    client-key-data: AAAA\n"))
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = kubeconfig.Parse(data)
		path := filepath.Join(t.TempDir(), "kubeconfig")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		_, _ = kubeconfig.Load(path)
		_, _ = kubeconfig.RESTConfig(path)
		_, _ = kubeconfig.Check(path, time.Now())
	})
}
