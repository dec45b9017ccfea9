package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/tlsbootstrap/tlsbootstrap/token"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/internal/tokenctl"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

const signerName = "example.com/workload-serving"

var (
	cp  *controlplane.ControlPlane
	bin string // the built workload-cert
	// signerCA is the custom signer's CA; workloadKubeconfig authenticates as a
	// ServiceAccount allowed only to create and watch CSRs.
	signerCA           *sign.CA
	workloadKubeconfig string
)

func TestMain(m *testing.M) {
	testenv.Main(m, controlplane.Options{}, &cp, func(cp *controlplane.ControlPlane) (func(), error) {
		dir, err := os.MkdirTemp("", "tlsbootstrap-workload-cert-")
		if err != nil {
			return nil, err
		}
		cleanup := func() { _ = os.RemoveAll(dir) }
		if bin, err = testenv.Build(dir, "github.com/tlsbootstrap/tlsbootstrap/examples/workload-cert"); err != nil {
			return cleanup, err
		}
		stopSigner, err := startSigner(cp, dir)
		if err != nil {
			return cleanup, err
		}
		workloadKubeconfig, err = serviceAccountKubeconfig(cp, dir)
		return func() { stopSigner(); cleanup() }, err
	})
}

// startSigner runs the project's controller (csrsigning only, so nothing is auto-approved)
// in this process with the custom signer read from a config file, as csr-controller
// --custom-signer-config does.
func startSigner(cp *controlplane.ControlPlane, dir string) (func(), error) {
	var err error
	signerCA, err = sign.NewSelfSignedCA(sign.SelfSignedOptions{CommonName: "workload-ca"})
	if err != nil {
		return nil, err
	}
	if err := signerCA.WriteFiles(filepath.Join(dir, "workload-ca.crt"), filepath.Join(dir, "workload-ca.key")); err != nil {
		return nil, err
	}
	config := filepath.Join(dir, "signers.yaml")
	if err := os.WriteFile(config, []byte(`signers:
- signerName: `+signerName+`
  caCertFile: workload-ca.crt
  caKeyFile: workload-ca.key
  allowedUsages: [digital signature, key encipherment, server auth]
  maxDuration: 24h
  allowedDNSSuffixes: ["*.svc.cluster.local", "*.svc", "localhost"]
  allowedIPRanges: ["10.96.0.0/12", "127.0.0.0/8"]
`), 0o600); err != nil {
		return nil, err
	}
	policies, err := sign.LoadSignerPolicies(context.Background(), config)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- controller.Run(ctx, cp.Client(), controller.Options{
			Controllers: []string{controller.CSRSigning}, CustomSigners: policies,
		})
	}()
	return func() { cancel(); <-done }, nil
}

// serviceAccountKubeconfig makes the workload's identity: a ServiceAccount token, bound to
// a ClusterRole that may create and watch CSRs, and nothing else.
func serviceAccountKubeconfig(cp *controlplane.ControlPlane, dir string) (string, error) {
	ctx := context.Background()
	client := cp.Client()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}}
	if _, err := client.CoreV1().ServiceAccounts("default").Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		return "", err
	}
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "workload-csr-requester"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"certificates.k8s.io"}, Resources: []string{"certificatesigningrequests"},
			Verbs: []string{"create", "get", "list", "watch"}}},
	}
	if _, err := client.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		return "", err
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "workload-csr-requester"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa.Name, Namespace: sa.Namespace}},
	}
	if _, err := client.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		return "", err
	}
	tr, err := client.CoreV1().ServiceAccounts("default").CreateToken(ctx, sa.Name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr(int64(3600))},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("service account token: %w", err)
	}
	cfg, err := kubeconfig.BootstrapConfig(kubeconfig.BootstrapOptions{Server: cp.Host(), CAData: cp.ServingCAPEM(), Token: token.NewSecret(tr.Status.Token)})
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "workload.kubeconfig")
	return path, kubeconfig.Write(path, cfg)
}

func ptr[T any](v T) *T { return &v }

// program is a running workload-cert.
type program struct {
	t   *testing.T
	p   *controlplane.Process
	out *testenv.SyncBuffer
}

func start(t *testing.T, args ...string) *program {
	t.Helper()
	out := &testenv.SyncBuffer{}
	p, err := controlplane.StartProcess(context.Background(), bin, append([]string{"--kubeconfig=" + workloadKubeconfig, "--signer-name=" + signerName, "--timeout=60s"}, args...), out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.Stop()
		if t.Failed() {
			t.Logf("workload-cert output:\n%s", out.String())
		}
	})
	return &program{t: t, p: p, out: out}
}

// await waits for a line matching re in the output and returns its first group.
func (g *program) await(re *regexp.Regexp) string {
	g.t.Helper()
	var m []string
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 60*time.Second, true, func(context.Context) (bool, error) {
		m = re.FindStringSubmatch(g.out.String())
		select {
		case <-g.p.Done():
			return m != nil, nil // a last look, then give up if it exited without it
		default:
		}
		return m != nil, nil
	})
	if err != nil {
		g.t.Fatalf("workload-cert never printed %s:\n%s", re, g.out.String())
	}
	return m[1]
}

// exit waits for the program to end and returns its error.
func (g *program) exit() error {
	g.t.Helper()
	select {
	case <-g.p.Done():
		return g.p.Err()
	case <-time.After(60 * time.Second):
		g.t.Fatalf("workload-cert did not exit:\n%s", g.out.String())
		return nil
	}
}

var (
	createdRe = regexp.MustCompile(`certificatesigningrequest (\S+) created`)
	servingRe = regexp.MustCompile(`serving https://(\S+)`)
)

// approve reads the request like an admin (tokenctl csr describe) and approves it
// (tokenctl csr approve), both as the cluster admin.
func approve(t *testing.T, name string, wantInDescription ...string) {
	t.Helper()
	var desc bytes.Buffer
	if code := tokenctl.Main(context.Background(), []string{"--kubeconfig=" + cp.KubeconfigFile, "csr", "describe", name}, &desc, io.Discard); code != 0 {
		t.Fatalf("tokenctl csr describe %s failed", name)
	}
	for _, want := range append([]string{"system:serviceaccount:default:web", signerName}, wantInDescription...) {
		if !strings.Contains(desc.String(), want) {
			t.Errorf("csr describe lacks %q:\n%s", want, desc.String())
		}
	}
	var stderr bytes.Buffer
	if code := tokenctl.Main(context.Background(), []string{"--kubeconfig=" + cp.KubeconfigFile, "csr", "approve", name}, io.Discard, &stderr); code != 0 {
		t.Fatalf("tokenctl csr approve %s: %s", name, stderr.String())
	}
}

// TestWorkloadServingCertificate is the whole story: the workload requests a certificate
// for its Service names and IPs, the admin describes and approves it, the project's signer
// issues it from the custom signer's CA, the workload writes its files and serves HTTPS,
// and a client that trusts only that CA completes a handshake and sees the requested SANs.
func TestWorkloadServingCertificate(t *testing.T) {
	outDir := filepath.Join(t.TempDir(), "pki")
	dnsNames := []string{"web.default.svc", "web.default.svc.cluster.local", "localhost"}
	g := start(t, "--common-name=web.default.svc", "--dns-names="+strings.Join(dnsNames, ","),
		"--ip-addresses=10.96.0.20,127.0.0.1", "--duration=1h", "--out-dir="+outDir, "--serve=127.0.0.1:0", "--serve-once")
	name := g.await(createdRe)
	approve(t, name, "web.default.svc.cluster.local", "10.96.0.20", "60m (expirationSeconds 3600)")
	addr := g.await(servingRe)

	for file, mode := range map[string]os.FileMode{CertFile: 0o600, KeyFile: 0o600} {
		info, err := os.Stat(filepath.Join(outDir, file))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != mode {
			t.Errorf("%s has mode %v, want %v", file, info.Mode().Perm(), mode)
		}
	}

	roots := x509.NewCertPool()
	roots.AddCert(signerCA.Cert)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "web.default.svc.cluster.local"},
	}}
	resp, err := client.Get("https://" + addr + "/")
	if err != nil {
		t.Fatalf("HTTPS with only the signer's CA trusted: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if !strings.Contains(string(body), "hello from web.default.svc") {
		t.Errorf("body %q", body)
	}
	leaf := resp.TLS.PeerCertificates[0]
	if !slices.Equal(leaf.DNSNames, dnsNames) {
		t.Errorf("served certificate DNS names %v, want %v", leaf.DNSNames, dnsNames)
	}
	var ips []string
	for _, ip := range leaf.IPAddresses {
		ips = append(ips, ip.String())
	}
	if !slices.Equal(ips, []string{"10.96.0.20", "127.0.0.1"}) {
		t.Errorf("served certificate IPs %v", ips)
	}
	if lifetime := leaf.NotAfter.Sub(leaf.NotBefore); lifetime != time.Hour+5*time.Minute {
		t.Errorf("lifetime %s, want 1h asked (+5m backdate)", lifetime)
	}
	if err := g.exit(); err != nil {
		t.Errorf("workload-cert --serve-once: %v", err)
	}
}

// TestHandshakeFailsWithoutSignerCA: the issued certificate is not trusted through the
// system roots or the cluster CA; only the custom signer's CA makes it valid.
func TestHandshakeFailsWithoutSignerCA(t *testing.T) {
	g := start(t, "--dns-names=web.default.svc", "--out-dir="+t.TempDir(), "--serve=127.0.0.1:0", "--serve-once")
	approve(t, g.await(createdRe))
	addr := g.await(servingRe)
	clusterRoots := x509.NewCertPool()
	clusterRoots.AddCert(cp.CA.Cert)
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{RootCAs: clusterRoots, ServerName: "web.default.svc"})
	if err == nil {
		_ = conn.Close()
		t.Fatal("handshake succeeded trusting only the cluster CA")
	}
	var unknown x509.UnknownAuthorityError
	if !strings.Contains(err.Error(), "unknown authority") && !errors.As(err, &unknown) {
		t.Errorf("handshake error %v, want an unknown authority", err)
	}
}

// TestRequestOutsidePolicy: approved requests outside the custom signer's policy are
// marked Failed, and the program exits naming what was refused.
func TestRequestOutsidePolicy(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		args       []string
	}{
		{"DNS name outside the suffixes", `DNS name "web.example.com"`, []string{"--dns-names=web.default.svc,web.example.com"}},
		{"apex of a suffix", `DNS name "svc.cluster.local"`, []string{"--dns-names=svc.cluster.local"}},
		{"IP outside the ranges", "IP address 192.168.0.10", []string{"--dns-names=web.default.svc", "--ip-addresses=192.168.0.10"}},
		{"usage not allowed", `usage "client auth"`, []string{"--dns-names=web.default.svc", "--usages=digital signature,client auth"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := start(t, append(tc.args, "--out-dir="+t.TempDir())...)
			name := g.await(createdRe)
			approve(t, name)
			err := g.exit()
			if err == nil {
				t.Fatal("workload-cert succeeded")
			}
			out := g.out.String()
			if !strings.Contains(out, sign.ReasonSignerValidationFailure) || !strings.Contains(out, tc.want) {
				t.Errorf("output lacks %s and %s:\n%s", sign.ReasonSignerValidationFailure, tc.want, out)
			}
			obj, err := cp.Client().CertificatesV1().CertificateSigningRequests().Get(context.Background(), name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var failed bool
			for _, c := range obj.Status.Conditions {
				failed = failed || (c.Type == certificatesv1.CertificateFailed && c.Reason == sign.ReasonSignerValidationFailure && strings.Contains(c.Message, tc.want))
			}
			if !failed || len(obj.Status.Certificate) > 0 {
				t.Errorf("CSR conditions %+v, certificate %d bytes; want Failed naming %s and no certificate", obj.Status.Conditions, len(obj.Status.Certificate), tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--dns-names=a.svc"}, "--signer-name"},
		{[]string{"--signer-name=" + signerName}, "--dns-names"},
		{[]string{"--signer-name=" + signerName, "--dns-names=a.svc", "--duration=1m"}, "10m"},
		{[]string{"--signer-name=" + signerName, "--dns-names=a.svc", "--serve-once"}, "--serve"},
		{[]string{"--signer-name=" + signerName, "--ip-addresses=not-an-ip"}, "not-an-ip"},
		{[]string{"--signer-name=" + signerName, "--dns-names=a.svc", "extra"}, "unexpected"},
	} {
		if _, err := parse(tc.args); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parse(%q): %v, want an error containing %s", tc.args, err, tc.want)
		}
	}
}
