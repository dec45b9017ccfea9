package tokenctl_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	certutil "k8s.io/client-go/util/cert"

	"github.com/tlsbootstrap/tlsbootstrap/discovery"
	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/tokenctl"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// servingPin is the pin of the API server's serving CA.
func servingPin(t *testing.T) string {
	t.Helper()
	certs, err := certutil.ParseCertsPEM(cp.ServingCAPEM())
	if err != nil {
		t.Fatal(err)
	}
	return discovery.Pin(certs[0])
}

// server is the API server URL as the admin kubeconfig names it (cp.Host() ends in "/").
func server() string { return strings.TrimSuffix(cp.Host(), "/") }

// anonymousClusterInfo reads cluster-info as system:anonymous and parses its kubeconfig.
func anonymousClusterInfo(t *testing.T) *discovery.ClusterInfo {
	t.Helper()
	cm, err := kubernetes.NewForConfigOrDie(cp.AnonymousConfig()).CoreV1().ConfigMaps(discovery.Namespace).Get(context.Background(), discovery.ConfigMapName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("anonymous get of cluster-info: %v", err)
	}
	info, err := discovery.ParseClusterInfo([]byte(cm.Data[discovery.KubeconfigKey]))
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// TestClusterInfoPublish: the command writes cluster-info with the kubeconfig's server and
// CA (or the flags'), the reader RBAC, checks the anonymous read, and says what it did.
func TestClusterInfoPublish(t *testing.T) {
	ctx := context.Background()
	host := server()
	localhost := strings.Replace(host, "127.0.0.1", "localhost", 1)
	if localhost == host {
		t.Fatalf("server %s is not on 127.0.0.1", host)
	}
	// Start from nothing, so that the first run creates.
	_ = cp.Client().CoreV1().ConfigMaps(discovery.Namespace).Delete(ctx, discovery.ConfigMapName, metav1.DeleteOptions{})
	sign := func(t *testing.T) {
		newToken(t)
		if _, err := discovery.SignClusterInfo(ctx, cp.Client(), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name       string
		before     func(t *testing.T)
		args       []string
		wantServer string
		want       []string
	}{
		{"defaults from the kubeconfig", nil, nil, host, []string{
			"configmap/cluster-info -n kube-public created: server " + host + ", CA bundle from the kubeconfig's certificate-authority-data",
			"role.rbac.authorization.k8s.io/kubeadm:bootstrap-signer-clusterinfo -n kube-public applied",
			"rolebinding.rbac.authorization.k8s.io/kubeadm:bootstrap-signer-clusterinfo -n kube-public applied: for User system:anonymous",
			"--discovery-token-ca-cert-hash " + servingPin(t),
			"warning: the server " + host + " is a loopback address",
			"checked: an anonymous client trusting that CA reads cluster-info at " + host,
			"no token has signed it yet",
			"node-agent --server=" + host + " --discovery-token=<id.secret> --discovery-token-ca-cert-hash=" + servingPin(t),
		}},
		{"again: unchanged", nil, nil, host, []string{
			"configmap/cluster-info -n kube-public unchanged",
			"checked: an anonymous client",
		}},
		{"--server and --ca-file", nil, []string{"--server=" + localhost, "--ca-file=" + caFile(t)}, localhost, []string{
			"configmap/cluster-info -n kube-public updated (the bootstrap signer re-signs it for each token): server " + localhost + ", CA bundle from --ca-file ",
			"checked: an anonymous client trusting that CA reads cluster-info at " + localhost,
		}},
		{"signed, unchanged", sign, []string{"--server=" + localhost}, localhost, []string{
			"configmap/cluster-info -n kube-public unchanged",
			"signed for tokens ",
		}},
		{"signed, then changed", sign, nil, host, []string{
			"configmap/cluster-info -n kube-public updated",
			"predate this content: the bootstrap signer replaces them",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before(t)
			}
			out := mustRun(t, append([]string{"cluster-info", "publish", admin()}, tc.args...)...)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			info := anonymousClusterInfo(t)
			if info.Server != tc.wantServer || !bytes.Equal(info.CAData, cp.ServingCAPEM()) {
				t.Errorf("cluster-info holds server %s and CA %q, want %s and the serving CA", info.Server, info.CAData, tc.wantServer)
			}
		})
	}
	binding, err := cp.Client().RbacV1().RoleBindings(discovery.Namespace).Get(ctx, discovery.ReaderRoleName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantSubjects := []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "system:anonymous"}}
	if diff := cmp.Diff(wantSubjects, binding.Subjects); diff != "" {
		t.Errorf("reader RoleBinding subjects (-want +got):\n%s", diff)
	}
}

// TestClusterInfoPublishFailures: what cannot work is refused, or written and then
// reported with what to fix, as one line.
func TestClusterInfoPublishFailures(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	noCA, err := kubeconfig.BootstrapConfig(kubeconfig.BootstrapOptions{Server: cp.Host(), Token: token.NewSecret("abcdef.0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	noCAFile := filepath.Join(t.TempDir(), "noca.kubeconfig")
	if err := kubeconfig.Write(noCAFile, noCA); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"kubeconfig without a CA", []string{"--kubeconfig=" + noCAFile},
			[]string{"the kubeconfig's cluster has no certificate-authority-data or certificate-authority", "pass --ca-file"}},
		{"missing --ca-file", []string{admin(), "--ca-file=/nonexistent/ca.crt"},
			[]string{"reading --ca-file", "/nonexistent/ca.crt"}},
		{"--ca-file not PEM", []string{admin(), "--ca-file=" + notPEM},
			[]string{"CA bundle from --ca-file " + notPEM}},
		{"--server not a URL", []string{admin(), "--server=10.0.0.1:6443"},
			[]string{`server URL "10.0.0.1:6443": want https://host[:port]`}},
		// The cluster CA signs clients; the serving certificate comes from another CA.
		{"CA that does not verify the server", []string{admin(), "--ca-file=" + cp.CACertFile},
			[]string{"an anonymous client cannot get kube-public/cluster-info from " + server(),
				"the CA bundle from --ca-file " + cp.CACertFile + " does not verify the API server's certificate", "kube-apiserver's serving certificate"}},
		{"unreachable server", []string{admin(), "--server=https://127.0.0.1:1"},
			[]string{"an anonymous client cannot get kube-public/cluster-info from https://127.0.0.1:1",
				"no API server reachable there from this machine", "--check=false"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := tokenctl.Main(context.Background(), append([]string{"cluster-info", "publish"}, tc.args...), &stdout, &stderr)
			line := stderr.String()
			if code != 1 || strings.Count(line, "\n") != 1 || !strings.HasPrefix(line, "tokenctl: ") {
				t.Fatalf("exit code %d, stderr %q: want 1 and one line starting with tokenctl:", code, line)
			}
			for _, w := range tc.want {
				if !strings.Contains(line, w) {
					t.Errorf("stderr %q lacks %q", line, w)
				}
			}
			if strings.Contains(line, "credentials") || strings.Contains(line, "forbidden: ") {
				t.Errorf("stderr %q blames the kubeconfig for an anonymous failure", line)
			}
		})
	}
	t.Run("--check=false", func(t *testing.T) {
		out := mustRun(t, "cluster-info", "publish", admin(), "--server=https://127.0.0.1:1", "--check=false")
		if !strings.Contains(out, "not checked that anonymous clients can read it (--check=false)") {
			t.Errorf("output does not say the check was skipped:\n%s", out)
		}
	})
	// Leave cluster-info usable for the other tests.
	mustRun(t, "cluster-info", "publish", admin())
}

// TestClusterInfoCheckWithoutReaderBinding: with the reader RoleBinding gone, the check
// names the RBAC objects; publishing again repairs it.
func TestClusterInfoCheckWithoutReaderBinding(t *testing.T) {
	ctx := context.Background()
	mustRun(t, "cluster-info", "publish", admin())
	if err := cp.Client().RbacV1().RoleBindings(discovery.Namespace).Delete(ctx, discovery.ReaderRoleName, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	opts := tokenctl.ClusterInfoOptions{Server: cp.Host(), CAPEM: cp.ServingCAPEM(), Settle: time.Second}
	start := time.Now()
	_, err := tokenctl.CheckClusterInfo(ctx, opts)
	if err == nil {
		t.Fatal("anonymous read succeeded without the reader RoleBinding")
	}
	for _, w := range []string{
		"system:anonymous is forbidden to get it (403)",
		"Role and RoleBinding kube-public/kubeadm:bootstrap-signer-clusterinfo",
		"--authorization-mode",
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	if waited := time.Since(start); waited < opts.Settle {
		t.Errorf("gave up after %s, before the %s settle time", waited, opts.Settle)
	}
	out := mustRun(t, "cluster-info", "publish", admin())
	if !strings.Contains(out, "checked: an anonymous client") {
		t.Errorf("publishing again did not repair the anonymous read:\n%s", out)
	}
}

// TestClusterInfoPublishAnonymousAuthOff: on an API server that authenticates anonymous
// requests only for its health endpoints (the hardened set-up of KEP-4633's structured
// authentication configuration; --anonymous-auth=false would also stop envtest's
// readiness probe), cluster-info is written and the command says what stops token
// discovery.
func TestClusterInfoPublishAnonymousAuthOff(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second control plane")
	}
	authnConfig := filepath.Join(t.TempDir(), "authentication-config.yaml")
	if err := os.WriteFile(authnConfig, []byte(`apiVersion: apiserver.config.k8s.io/v1
kind: AuthenticationConfiguration
anonymous:
  enabled: true
  conditions:
  - path: /healthz
  - path: /livez
  - path: /readyz
`), 0o600); err != nil {
		t.Fatal(err)
	}
	plane, err := controlplane.Start(controlplane.Options{
		ExtraArgs:    map[string][]string{"authentication-config": {authnConfig}},
		StartTimeout: 30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = plane.Stop() })
	host := strings.TrimSuffix(plane.Host(), "/")
	var stdout, stderr bytes.Buffer
	code := tokenctl.Main(context.Background(), []string{"cluster-info", "publish", "--kubeconfig=" + plane.KubeconfigFile}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit code %d, want 1; stdout:\n%s", code, stdout.String())
	}
	line := stderr.String()
	for _, w := range []string{
		"an anonymous client cannot get kube-public/cluster-info from " + host,
		"rejects anonymous requests (401)", "--anonymous-auth=false", "--authentication-config",
		"/api/v1/namespaces/kube-public/configmaps/cluster-info",
	} {
		if !strings.Contains(line, w) {
			t.Errorf("stderr %q lacks %q", line, w)
		}
	}
	if strings.Contains(line, "rejected the kubeconfig's credentials") {
		t.Errorf("stderr %q blames the admin kubeconfig", line)
	}
	if !strings.Contains(stdout.String(), "configmap/cluster-info -n kube-public created") {
		t.Errorf("stdout does not say what was written:\n%s", stdout.String())
	}
}

// TestClusterInfoCheckServerName: a --server whose host the serving certificate does not
// name is reported with the names it holds (httptest's certificate names example.com and
// loopback IPs, not localhost).
func TestClusterInfoCheckServerName(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the client's refused handshake
	srv.StartTLS()
	defer srv.Close()
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	server := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	_, err := tokenctl.CheckClusterInfo(context.Background(), tokenctl.ClusterInfoOptions{Server: server, CAPEM: caPEM, CASource: "test"})
	if err == nil || !strings.Contains(err.Error(), `the API server's certificate is not valid for "localhost": pass a --server whose host is among its names (example.com, *.example.com, 127.0.0.1, ::1)`) {
		t.Errorf("error %v, want one naming the host and the certificate's names", err)
	}
}
