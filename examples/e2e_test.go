package examples_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/rbac"
	"github.com/tlsbootstrap/tlsbootstrap/rotate"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

var (
	cp   *controlplane.ControlPlane
	bins = map[string]string{} // program name → built binary
)

func TestMain(m *testing.M) {
	testenv.Main(m, controlplane.Options{}, &cp, func(cp *controlplane.ControlPlane) (func(), error) {
		dir, err := os.MkdirTemp("", "tlsbootstrap-examples-")
		if err != nil {
			return nil, err
		}
		cleanup := func() { _ = os.RemoveAll(dir) }
		for _, prog := range []string{"node-agent", "csr-controller", "quickstart", "tokenctl"} {
			if bins[prog], err = testenv.Build(dir, "github.com/tlsbootstrap/tlsbootstrap/examples/"+prog); err != nil {
				return cleanup, err
			}
		}
		return cleanup, rbac.Apply(context.Background(), cp.Client(), rbac.KubeadmPreset(token.KubeadmDefaultGroup))
	})
}

func writeBootstrap(t *testing.T, tokenValue string) string {
	t.Helper()
	cfg, err := kubeconfig.BootstrapConfig(kubeconfig.BootstrapOptions{Server: cp.Host(), CAData: cp.ServingCAPEM(), Token: token.NewSecret(tokenValue)})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bootstrap.kubeconfig")
	if err := kubeconfig.Write(path, cfg); err != nil {
		t.Fatal(err)
	}
	return path
}

// startProcess runs bin until the test ends.
func startProcess(t *testing.T, bin string, args ...string) {
	t.Helper()
	var logs bytes.Buffer
	p, err := controlplane.StartProcess(context.Background(), bin, args, &logs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.Stop()
		if t.Failed() {
			t.Logf("%s logs:\n%s", filepath.Base(bin), logs.String())
		}
	})
}

func startCSRController(t *testing.T, extra ...string) {
	startProcess(t, bins["csr-controller"], append([]string{"--kubeconfig=" + cp.KubeconfigFile,
		"--cluster-signing-cert-file=" + cp.CACertFile, "--cluster-signing-key-file=" + cp.CAKeyFile}, extra...)...)
}

// runNode runs a node program with kubelet flags and returns the kubeconfig it wrote.
func runNode(t *testing.T, bin, nodeName string, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	kubeconfigPath := filepath.Join(dir, "kubelet.kubeconfig")
	args := append([]string{
		"--bootstrap-kubeconfig=" + testenv.BootstrapKubeconfig(t, cp),
		"--kubeconfig=" + kubeconfigPath,
		"--cert-dir=" + filepath.Join(dir, "pki"),
		"--node-name=" + nodeName,
	}, extra...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
	return kubeconfigPath
}

func assertNodeIdentity(t *testing.T, kubeconfigPath, nodeName string) {
	t.Helper()
	if u := testenv.WhoAmI(t, kubeconfigPath); u.Username != "system:node:"+nodeName || !slices.Contains(u.Groups, "system:nodes") {
		t.Errorf("authenticates as %q %v, want system:node:%s in system:nodes", u.Username, u.Groups, nodeName)
	}
}

func TestNodeAgentWithCSRController(t *testing.T) {
	startCSRController(t)
	path := runNode(t, bins["node-agent"], "agent-ours", "--once")
	assertNodeIdentity(t, path, "agent-ours")
}

// TestKubeletCodeWithCSRController: the real kubelet's bootstrap code (built by
// hack/assets.sh) gets its certificate from our controller.
func TestKubeletCodeWithCSRController(t *testing.T) {
	bin, err := controlplane.BinaryPath("kubelet-bootstrap")
	if err != nil {
		t.Fatal(err)
	}
	startCSRController(t)
	path := runNode(t, bin, "kubelet-ours")
	assertNodeIdentity(t, path, "kubelet-ours")
}

// TestNodeAgentWithKubeControllerManager: Kubernetes' own approver and signer serve our
// node agent.
func TestNodeAgentWithKubeControllerManager(t *testing.T) {
	bin, err := controlplane.BinaryPath("kube-controller-manager")
	if err != nil {
		t.Fatal(err)
	}
	startProcess(t, bin, cp.ControllerManagerArgs(controlplane.ControllerManagerOptions{})...)
	path := runNode(t, bins["node-agent"], "agent-kcm", "--once")
	assertNodeIdentity(t, path, "agent-kcm")
}

func TestNodeAgentFailsWithOneLineReason(t *testing.T) {
	dir := t.TempDir()
	out, err := exec.Command(bins["node-agent"], "--once", "--timeout=20s", "--auth-retry-grace=0",
		"--bootstrap-kubeconfig="+writeBootstrap(t, "abcdef.0123456789abcdef"),
		"--kubeconfig="+filepath.Join(dir, "k"), "--cert-dir="+filepath.Join(dir, "pki"), "--node-name=bad").Output()
	if err == nil {
		t.Fatalf("node-agent succeeded with an unknown token: %s", out)
	}
	stderr := string(err.(*exec.ExitError).Stderr)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "node-agent: ") || !strings.Contains(last, "401") {
		t.Errorf("last stderr line %q, want a one-line reason naming the 401", last)
	}
}

// TestQuickstart runs the README's demo command (on its own embedded control plane), with
// --rotate: each node also renews its client certificate once through a selfnodeclient CSR.
func TestQuickstart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bins["quickstart"], "--nodes=2", "--rotate", "--out="+t.TempDir()).CombinedOutput()
	if err != nil {
		t.Fatalf("quickstart: %v\n%s", err, out)
	}
	for _, want := range []string{
		"NAME", "SIGNERNAME", "REQUESTOR", "CONDITION", "Approved,Issued",
		"NODE", "SERIAL", "NOT AFTER", "TIME TO CERT",
		"node-1: system:node:node-1 [system:nodes", "node-2: system:node:node-2 [system:nodes", "total time",
		"renewing each node's client certificate once", "system:node:node-1 ", "system:node:node-2 ",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, nodeName := range []string{"node-1", "node-2"} {
		if !regexp.MustCompile(`(?m)^    ` + nodeName + `: serial \S+ -> \S+ via selfnodeclient \(node-csr-\S+\), not after \S+, next renewal \S+$`).Match(out) {
			t.Errorf("output lacks %s's renewal line:\n%s", nodeName, out)
		}
	}
}

// TestNodeAgentRenews: without --once the node agent keeps renewing its client
// certificate through selfnodeclient CSRs approved and signed by the csr-controller, and
// its kubeconfig keeps authenticating.
func TestNodeAgentRenews(t *testing.T) {
	startCSRController(t)
	const nodeName = "agent-renews"
	dir := t.TempDir()
	kubeconfigPath := filepath.Join(dir, "kubelet.kubeconfig")
	var logs testenv.SyncBuffer
	p, err := controlplane.StartProcess(context.Background(), bins["node-agent"], []string{
		"--bootstrap-kubeconfig=" + testenv.BootstrapKubeconfig(t, cp), "--kubeconfig=" + kubeconfigPath,
		"--cert-dir=" + filepath.Join(dir, "pki"), "--node-name=" + nodeName, "--renew-after=1s",
	}, &logs)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := p.Stop(); err != nil {
			t.Errorf("node-agent did not stop cleanly: %v", err)
		}
		if t.Failed() {
			t.Logf("node-agent logs:\n%s", logs.String())
		}
	}()
	deadline := time.Now().Add(90 * time.Second)
	for strings.Count(logs.String(), `"rotated certificate"`) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("node-agent did not rotate its certificate twice within 90s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, want := range []string{`path="selfnodeclient"`, "oldSerial=", "newSerial=", "notAfter=", "nextDeadline="} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("rotation logs lack %s", want)
		}
	}
	assertNodeIdentity(t, kubeconfigPath, nodeName)
	list, err := cp.Client().CertificatesV1().CertificateSigningRequests().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	renewals := 0
	for _, c := range list.Items {
		if c.Spec.Username == "system:node:"+nodeName && len(c.Status.Certificate) > 0 {
			renewals++
		}
	}
	if renewals < 2 {
		t.Errorf("%d issued CSRs made by system:node:%s, want at least 2 renewals", renewals, nodeName)
	}
}

// TestNodeAgentServingThroughServingApprover: the agent registers its Node with its
// addresses, requests a kubelet-serving certificate, and the project's serving approver
// checks the SANs against the Node and approves it: no manual step.
func TestNodeAgentServingThroughServingApprover(t *testing.T) {
	const nodeName = "agent-serving"
	ctx := context.Background()
	if err := rbac.Apply(ctx, cp.Client(), rbac.SeedPreset(rbac.SeedOptions{Group: token.KubeadmDefaultGroup, Nodes: []string{nodeName}})); err != nil {
		t.Fatal(err)
	}
	startCSRController(t, "--controllers=csrapproving,csrsigning,servingapproving")
	dir := t.TempDir()
	certDir := filepath.Join(dir, "pki")
	var logs testenv.SyncBuffer
	p, err := controlplane.StartProcess(ctx, bins["node-agent"], []string{
		"--bootstrap-kubeconfig=" + testenv.BootstrapKubeconfig(t, cp), "--kubeconfig=" + filepath.Join(dir, "kubelet.kubeconfig"),
		"--cert-dir=" + certDir, "--node-name=" + nodeName, "--node-ip=10.20.30.40", "--rotate-server-certificates",
		"--register-node", // no kubelet here registers the Node the serving approver checks
	}, &logs)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = p.Stop()
		if t.Failed() {
			t.Logf("node-agent logs:\n%s", logs.String())
		}
	}()

	servingFile := filepath.Join(certDir, "kubelet-server-current.pem")
	deadline := time.Now().Add(60 * time.Second)
	var pair *tls.Certificate
	for {
		if data, err := os.ReadFile(servingFile); err == nil {
			if pair, err = rotate.ParsePair(data); err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no serving certificate in %s within 60s", servingFile)
		}
		time.Sleep(200 * time.Millisecond)
	}
	leaf := pair.Leaf
	if !slices.Contains(leaf.DNSNames, nodeName) || len(leaf.IPAddresses) != 1 || leaf.IPAddresses[0].String() != "10.20.30.40" {
		t.Errorf("serving certificate SANs %v %v, want %s and 10.20.30.40", leaf.DNSNames, leaf.IPAddresses, nodeName)
	}
	if err := leaf.CheckSignatureFrom(cp.CA.Cert); err != nil {
		t.Errorf("serving certificate not signed by the cluster CA: %v", err)
	}
	n, err := cp.Client().CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the agent did not register its Node: %v", err)
	}
	if !slices.ContainsFunc(n.Status.Addresses, func(a corev1.NodeAddress) bool { return a.Address == "10.20.30.40" }) {
		t.Errorf("Node addresses %v lack --node-ip", n.Status.Addresses)
	}
	list, err := cp.Client().CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	approved := false
	for _, c := range list.Items {
		if c.Spec.SignerName == certificatesv1.KubeletServingSignerName && c.Spec.Username == "system:node:"+nodeName {
			for _, cond := range c.Status.Conditions {
				approved = approved || (cond.Type == certificatesv1.CertificateApproved && cond.Reason == "AutoApproved")
			}
		}
	}
	if !approved {
		t.Error("no kubelet-serving CSR of the node was auto-approved")
	}
}
