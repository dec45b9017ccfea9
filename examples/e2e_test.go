package examples_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/rbac"
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
		for _, prog := range []string{"node-agent", "csr-controller", "quickstart"} {
			out := filepath.Join(dir, prog)
			if msg, err := exec.Command("go", "build", "-o", out, "./"+prog).CombinedOutput(); err != nil {
				return nil, fmt.Errorf("building %s: %v\n%s", prog, err, msg)
			}
			bins[prog] = out
		}
		cleanup := func() { _ = os.RemoveAll(dir) }
		return cleanup, rbac.Apply(context.Background(), cp.Client(), rbac.KubeadmPreset(token.KubeadmDefaultGroup))
	})
}

func writeBootstrap(t *testing.T, tokenValue string) string {
	t.Helper()
	cfg, err := kubeconfig.Bootstrap(kubeconfig.BootstrapOptions{Server: cp.Host(), CAData: cp.ServingCAPEM(), Token: tokenValue})
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

func startCSRController(t *testing.T) {
	startProcess(t, bins["csr-controller"], "--kubeconfig="+cp.KubeconfigFile,
		"--cluster-signing-cert-file="+cp.CACertFile, "--cluster-signing-key-file="+cp.CAKeyFile)
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
	out, err := exec.Command(bins["node-agent"], "--once", "--timeout=20s",
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

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestNodeAgentRenews: without --once the node agent keeps renewing its client
// certificate through selfnodeclient CSRs approved and signed by the csr-controller, and
// its kubeconfig keeps authenticating.
func TestNodeAgentRenews(t *testing.T) {
	startCSRController(t)
	const nodeName = "agent-renews"
	dir := t.TempDir()
	kubeconfigPath := filepath.Join(dir, "kubelet.kubeconfig")
	var logs lockedBuffer
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
