package examples_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	certutil "k8s.io/client-go/util/cert"

	"github.com/tlsbootstrap/tlsbootstrap/discovery"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// The node-agent joins with only --server, --discovery-token and the CA pin, against the
// csr-controller running the bootstrap signer: kubeadm join's token discovery.
func TestNodeAgentJoinsWithDiscoveryToken(t *testing.T) {
	ctx := context.Background()
	admin := cp.Client()
	if err := discovery.PublishClusterInfo(ctx, admin, cp.Host(), cp.ServingCAPEM()); err != nil {
		t.Fatal(err)
	}
	tok, err := token.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := token.Create(ctx, admin, token.DefaultSpec(tok)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = token.Delete(context.Background(), admin, tok.ID) })
	startProcess(t, bins["csr-controller"], "--kubeconfig="+cp.KubeconfigFile,
		"--cluster-signing-cert-file="+cp.CACertFile, "--cluster-signing-key-file="+cp.CAKeyFile,
		"--controllers=csrapproving,csrsigning,bootstrapsigner")
	certs, err := certutil.ParseCertsPEM(cp.ServingCAPEM())
	if err != nil {
		t.Fatal(err)
	}
	pin := discovery.Pin(certs[0])

	join := func(t *testing.T, nodeName, pin string) (kubeconfigPath string, out []byte, err error) {
		dir := t.TempDir()
		kubeconfigPath = filepath.Join(dir, "kubelet.conf")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err = exec.CommandContext(ctx, bins["node-agent"], "--once", "--timeout=30s",
			"--server="+cp.Host(), "--discovery-token="+tok.Reveal(), "--discovery-token-ca-cert-hash="+pin,
			"--kubeconfig="+kubeconfigPath, "--cert-dir="+filepath.Join(dir, "pki"), "--node-name="+nodeName).CombinedOutput()
		return kubeconfigPath, out, err
	}

	t.Run("right pin", func(t *testing.T) {
		kubeconfigPath, out, err := join(t, "discovered-node", pin)
		if err != nil {
			t.Fatalf("node-agent: %v\n%s", err, out)
		}
		assertNodeIdentity(t, kubeconfigPath, "discovered-node")
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
