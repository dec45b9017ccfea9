package kubeconfig_test

import (
	"github.com/tlsbootstrap/tlsbootstrap/token"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
)

var ignoreOrigin = cmpopts.IgnoreFields(clientcmdapi.Cluster{}, "LocationOfOrigin")

func TestBootstrap(t *testing.T) {
	ca := []byte("-----BEGIN CERTIFICATE-----\n...\n")
	tests := []struct {
		name    string
		opts    kubeconfig.BootstrapOptions
		want    *clientcmdapi.Config
		wantErr string
	}{
		{
			name: "seed document defaults",
			opts: kubeconfig.BootstrapOptions{Server: "https://10.0.0.1:6443", CAData: ca, Token: token.NewSecret("07401b.f395accd246ae52d")},
			want: config("bootstrap", "kubelet-bootstrap", "bootstrap",
				&clientcmdapi.Cluster{Server: "https://10.0.0.1:6443", CertificateAuthorityData: ca},
				&clientcmdapi.AuthInfo{Token: "07401b.f395accd246ae52d"}, ""),
		},
		{
			name: "CA file and own names",
			opts: kubeconfig.BootstrapOptions{Server: "https://api.example:443", CAFile: "/etc/kubernetes/pki/ca.crt", Token: token.NewSecret("t"),
				ClusterName: "kubernetes", UserName: "tls-bootstrap-token-user", ContextName: "tls-bootstrap-token-user@kubernetes"},
			want: config("kubernetes", "tls-bootstrap-token-user", "tls-bootstrap-token-user@kubernetes",
				&clientcmdapi.Cluster{Server: "https://api.example:443", CertificateAuthority: "/etc/kubernetes/pki/ca.crt"},
				&clientcmdapi.AuthInfo{Token: "t"}, ""),
		},
		{name: "no server", opts: kubeconfig.BootstrapOptions{Token: token.NewSecret("t")}, wantErr: "server URL is empty"},
		{name: "server without scheme", opts: kubeconfig.BootstrapOptions{Server: "10.0.0.1:6443", Token: token.NewSecret("t")}, wantErr: "want https://host[:port]"},
		{name: "no token", opts: kubeconfig.BootstrapOptions{Server: "https://a"}, wantErr: "token is empty"},
		{name: "two CAs", opts: kubeconfig.BootstrapOptions{Server: "https://a", Token: token.NewSecret("t"), CAData: ca, CAFile: "/ca"}, wantErr: "not both"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := kubeconfig.BootstrapConfig(tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, ignoreOrigin, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNode(t *testing.T) {
	ca := []byte("CA")
	pemPath := "/var/lib/kubelet/pki/kubelet-client-current.pem"
	auth := &clientcmdapi.AuthInfo{ClientCertificate: pemPath, ClientKey: pemPath}
	tests := []struct {
		name    string
		opts    kubeconfig.NodeOptions
		want    *clientcmdapi.Config
		wantErr string
	}{
		{
			name: "CA data",
			opts: kubeconfig.NodeOptions{Server: "https://10.0.0.1:6443", CAData: ca, CertDir: "/var/lib/kubelet/pki"},
			want: config("default-cluster", "default-auth", "default-context",
				&clientcmdapi.Cluster{Server: "https://10.0.0.1:6443", CertificateAuthorityData: ca}, auth, "default"),
		},
		{
			name: "CA file wins over data, insecure copied",
			opts: kubeconfig.NodeOptions{Server: "https://a", CAFile: "/ca.crt", CAData: ca, InsecureSkipTLSVerify: true, CertDir: "/var/lib/kubelet/pki/"},
			want: config("default-cluster", "default-auth", "default-context",
				&clientcmdapi.Cluster{Server: "https://a", CertificateAuthority: "/ca.crt", InsecureSkipTLSVerify: true}, auth, "default"),
		},
		{name: "no cert dir", opts: kubeconfig.NodeOptions{Server: "https://a"}, wantErr: "cert dir is empty"},
		{name: "no server", opts: kubeconfig.NodeOptions{CertDir: "/x"}, wantErr: "server URL is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := kubeconfig.NodeConfig(tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, ignoreOrigin, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}

	// A relative cert dir is made absolute: the kubeconfig may live elsewhere.
	got, err := kubeconfig.NodeConfigFromREST(&rest.Config{Host: "https://a", TLSClientConfig: rest.TLSClientConfig{CAData: ca}}, "pki")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := filepath.Abs(filepath.Join("pki", kubeconfig.CurrentClientFile))
	if a := got.AuthInfos[kubeconfig.NodeUser]; a.ClientCertificate != want || a.ClientKey != want {
		t.Errorf("cert %q key %q, want both %q", a.ClientCertificate, a.ClientKey, want)
	}
	if c := got.Clusters[kubeconfig.NodeCluster]; c.Server != "https://a" || string(c.CertificateAuthorityData) != "CA" {
		t.Errorf("cluster %+v not copied from the bootstrap configuration", c)
	}
	if _, err := kubeconfig.NodeConfigFromREST(nil, "pki"); err == nil {
		t.Error("NodeFromREST(nil) gave no error")
	}
}

func config(cluster, user, context string, c *clientcmdapi.Cluster, a *clientcmdapi.AuthInfo, namespace string) *clientcmdapi.Config {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[cluster] = c
	cfg.AuthInfos[user] = a
	cfg.Contexts[context] = &clientcmdapi.Context{Cluster: cluster, AuthInfo: user, Namespace: namespace}
	cfg.CurrentContext = context
	return cfg
}
