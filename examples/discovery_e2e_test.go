package examples_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/rotate"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// tokenctl runs the tokenctl program as the cluster admin and returns its stdout.
func tokenctl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(bins["tokenctl"], append(args, "--kubeconfig="+cp.KubeconfigFile)...).Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("tokenctl %s: %v\n%s%s", strings.Join(args, " "), err, out, exit.Stderr)
		}
		t.Fatalf("tokenctl %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

// Token discovery with the example programs only: the admin runs tokenctl cluster-info
// publish and tokenctl create, the csr-controller runs the bootstrap signer with the
// approver and signer, and node-agent joins with only the --server, --discovery-token
// and CA pin of the join command tokenctl printed.
func TestNodeAgentJoinsWithDiscoveryToken(t *testing.T) {
	published := tokenctl(t, "cluster-info", "publish")
	hint := regexp.MustCompile(`node-agent --server=(\S+) --discovery-token=<id.secret> --discovery-token-ca-cert-hash=(sha256:[0-9a-f]{64})`).FindStringSubmatch(published)
	if hint == nil || !strings.Contains(published, "checked: an anonymous client trusting that CA reads cluster-info") {
		t.Fatalf("cluster-info publish printed no anonymous check or no join command:\n%s", published)
	}
	server, pin := hint[1], hint[2]
	tok, err := token.Parse(strings.TrimSpace(tokenctl(t, "create", "--ttl=10m", "--description=discovery e2e")))
	if err != nil {
		t.Fatalf("tokenctl create: %v", err)
	}
	t.Cleanup(func() { _ = token.Delete(context.Background(), cp.Client(), tok.ID) })
	startCSRController(t, "--controllers=csrapproving,csrsigning,bootstrapsigner")
	// Publishing again changes nothing and shows the signer's signature for the token.
	deadline := time.Now().Add(30 * time.Second)
	for again := ""; !strings.Contains(again, "signed for tokens ") || !strings.Contains(again, tok.ID); again = tokenctl(t, "cluster-info", "publish") {
		if time.Now().After(deadline) {
			t.Fatalf("cluster-info not signed for token %s within 30s; publish says:\n%s", tok.ID, again)
		}
		time.Sleep(200 * time.Millisecond)
	}

	join := func(t *testing.T, nodeName, pin string) (kubeconfigPath string, out []byte, err error) {
		dir := t.TempDir()
		kubeconfigPath = filepath.Join(dir, "kubelet.conf")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err = exec.CommandContext(ctx, bins["node-agent"], "--once", "--timeout=30s",
			"--server="+server, "--discovery-token="+tok.Reveal(), "--discovery-token-ca-cert-hash="+pin,
			"--kubeconfig="+kubeconfigPath, "--cert-dir="+filepath.Join(dir, "pki"), "--node-name="+nodeName).CombinedOutput()
		return kubeconfigPath, out, err
	}

	t.Run("right pin", func(t *testing.T) {
		kubeconfigPath, out, err := join(t, "discovered-node", pin)
		if err != nil {
			t.Fatalf("node-agent: %v\n%s", err, out)
		}
		assertNodeIdentity(t, kubeconfigPath, "discovered-node")
		st, err := kubeconfig.Check(kubeconfigPath, time.Now())
		if err != nil {
			t.Fatalf("the node's kubeconfig: %v", err)
		}
		data, err := os.ReadFile(st.CertificateFile)
		if err != nil {
			t.Fatal(err)
		}
		pair, err := rotate.ParsePair(data)
		if err != nil {
			t.Fatalf("client certificate %s: %v", st.CertificateFile, err)
		}
		if err := pair.Leaf.CheckSignatureFrom(cp.CA.Cert); err != nil {
			t.Errorf("client certificate %s not signed by the cluster CA: %v", st.CertificateFile, err)
		}
		bootstrapPath := filepath.Join(filepath.Dir(kubeconfigPath), "bootstrap-kubelet.conf")
		info, err := os.Stat(bootstrapPath)
		if err != nil {
			t.Fatalf("discovered bootstrap kubeconfig: %v", err)
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("discovered bootstrap kubeconfig %s has mode %v, want 0600", bootstrapPath, perm)
		}
	})
	t.Run("wrong pin", func(t *testing.T) {
		wrong := "sha256:" + strings.Repeat("1", 64)
		kubeconfigPath, out, err := join(t, "impostor-node", wrong)
		if err == nil {
			t.Fatalf("node-agent joined with a wrong pin:\n%s", out)
		}
		if !strings.Contains(string(out), wrong) || !strings.Contains(string(out), pin) {
			t.Errorf("output does not name the expected and actual pins:\n%s", out)
		}
		if _, err := os.Stat(kubeconfigPath); err == nil {
			t.Error("a kubeconfig was written despite the pin mismatch")
		}
	})
}
