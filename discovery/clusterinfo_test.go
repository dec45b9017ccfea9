package discovery_test

import (
	"strings"
	"testing"

	"github.com/tlsbootstrap/tlsbootstrap/discovery"
)

func TestClusterInfoKubeconfigRoundTrip(t *testing.T) {
	data, err := discovery.ClusterInfoKubeconfig("https://10.0.0.1:6443", []byte(fixedCA))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "user") && strings.Contains(string(data), "token") {
		t.Errorf("cluster-info kubeconfig holds credentials:\n%s", data)
	}
	info, err := discovery.ParseClusterInfo(data)
	if err != nil {
		t.Fatal(err)
	}
	if info.Server != "https://10.0.0.1:6443" || string(info.CAData) != fixedCA || len(info.CACerts) != 1 {
		t.Errorf("ParseClusterInfo = %+v", info)
	}
	if got := discovery.Pin(info.CACerts[0]); got != fixedPin {
		t.Errorf("pin of the parsed CA = %s, want %s", got, fixedPin)
	}
}

func TestClusterInfoKubeconfigErrors(t *testing.T) {
	tests := []struct {
		name, server, ca, wantErr string
	}{
		{"no server", "", fixedCA, "server URL is empty"},
		{"not a URL", "10.0.0.1:6443", fixedCA, "want https://host[:port]"},
		{"no CA", "https://10.0.0.1:6443", "", "CA bundle"},
		{"garbage CA", "https://10.0.0.1:6443", "not a cert", "CA bundle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := discovery.ClusterInfoKubeconfig(tt.server, []byte(tt.ca))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ClusterInfoKubeconfig = %v, want an error saying %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseClusterInfoErrors(t *testing.T) {
	caData := "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCm5vcGUKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=" // a PEM block that is no certificate
	tests := []struct {
		name, kubeconfig, wantErr string
	}{
		{"empty", "", "kubeconfig is empty"},
		{"not YAML", "{{{", "parsing kubeconfig"},
		{"no cluster", "apiVersion: v1\nkind: Config\n", "has 0 clusters"},
		{"two clusters", "apiVersion: v1\nkind: Config\nclusters:\n- name: a\n  cluster: {server: https://a}\n- name: b\n  cluster: {server: https://b}\n", "has 2 clusters"},
		{"no server", "apiVersion: v1\nkind: Config\nclusters:\n- name: \"\"\n  cluster: {certificate-authority-data: " + caData + "}\n", "server URL is empty"},
		{"no CA", "apiVersion: v1\nkind: Config\nclusters:\n- name: \"\"\n  cluster: {server: https://a:6443}\n", "no certificate-authority-data"},
		{"bad CA", "apiVersion: v1\nkind: Config\nclusters:\n- name: \"\"\n  cluster: {server: https://a:6443, certificate-authority-data: " + caData + "}\n", "certificate-authority-data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := discovery.ParseClusterInfo([]byte(tt.kubeconfig))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ParseClusterInfo = %v, want an error saying %q", err, tt.wantErr)
			}
		})
	}
}
