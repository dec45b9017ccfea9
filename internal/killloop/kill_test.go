package killloop_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/rotate"
)

var cp *controlplane.ControlPlane

func TestMain(m *testing.M) { testenv.Main(m, controlplane.Options{}, &cp) }

// kills is the number of SIGKILLs: KILLS, default 10 (quick enough for `make test`).
func kills(t *testing.T) int { return testenv.EnvCount(t, "KILLS", 10, 1) }

// agent runs the node-agent binary for one node.
type agent struct {
	bin, bootstrap, dir, nodeName string
}

func (a agent) certDir() string    { return filepath.Join(a.dir, "pki") }
func (a agent) kubeconfig() string { return filepath.Join(a.dir, "kubelet.kubeconfig") }

func (a agent) command(extra ...string) *exec.Cmd {
	args := append([]string{"--bootstrap-kubeconfig", a.bootstrap, "--kubeconfig", a.kubeconfig(),
		"--cert-dir", a.certDir(), "--node-name", a.nodeName, "--register-node=false", "--timeout", "60s"}, extra...)
	cmd := exec.Command(a.bin, args...)
	cmd.Stdout, cmd.Stderr = nil, nil
	return cmd
}

// killAfter starts the agent and SIGKILLs it after d (or finds it already exited).
func (a agent) killAfter(d time.Duration, extra ...string) (killed bool, err error) {
	cmd := a.command(extra...)
	if err := cmd.Start(); err != nil {
		return false, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return false, err // finished before the kill
	case <-time.After(d):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
		return true, nil
	}
}

// restart runs the agent with --once until it exits; it must succeed.
func (a agent) restart() error {
	cmd := a.command("--once")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("restarted agent failed: %v: %s", err, strings.Join(testenv.LastLines(string(out), 5), " | "))
	}
	return nil
}

// checkCertDir: after a kill, no partial or dangling file: every *.pem (through links)
// is a full certificate and key pair; the temporary key parses.
func checkCertDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil // killed before the cert-dir was made
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		switch {
		case strings.HasSuffix(e.Name(), ".pem"):
			data, err := os.ReadFile(path) // follows kubelet-client-current.pem
			if err != nil {
				return fmt.Errorf("%s: %v (dangling link?)", e.Name(), err)
			}
			if _, err := rotate.ParsePair(data); err != nil {
				return fmt.Errorf("%s is not a full certificate and key pair: %v", e.Name(), err)
			}
		case e.Name() == "kubelet-client.key.tmp":
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if _, err := csr.ParseKeyPEM(data); err != nil {
				return fmt.Errorf("%s is a partial key: %v", e.Name(), err)
			}
		}
	}
	return nil
}

// checkValid: the agent ended with a valid pair behind the current link and a kubeconfig
// that authenticates as the node.
func checkValid(a agent) error {
	if err := checkCertDir(a.certDir()); err != nil {
		return err
	}
	current := filepath.Join(a.certDir(), rotate.ClientPrefix+"-current.pem")
	data, err := os.ReadFile(current)
	if err != nil {
		return fmt.Errorf("no current certificate: %v", err)
	}
	pair, err := rotate.ParsePair(data)
	if err != nil {
		return fmt.Errorf("current pair: %v", err)
	}
	if cn := pair.Leaf.Subject.CommonName; cn != "system:node:"+a.nodeName {
		return fmt.Errorf("current certificate is for %q", cn)
	}
	now := time.Now()
	if now.Before(pair.Leaf.NotBefore) || now.After(pair.Leaf.NotAfter) {
		return fmt.Errorf("current certificate not valid now (%s to %s)", pair.Leaf.NotBefore, pair.Leaf.NotAfter)
	}
	st, err := kubeconfig.Check(a.kubeconfig(), now)
	if err != nil {
		return fmt.Errorf("kubeconfig: %v", err)
	}
	if !strings.Contains(st.Subject, "system:node:"+a.nodeName) {
		return fmt.Errorf("kubeconfig authenticates as %s", st.Subject)
	}
	return nil
}

// TestNodeAgentSurvivesSIGKILL kills the agent KILLS times, alternating bootstrap (a fresh
// node each time) and rotation (one node renewing every 150ms), at uniformly random moments.
func TestNodeAgentSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the node-agent binary")
	}
	n := kills(t)
	dir := t.TempDir()
	bin, err := testenv.Build(dir, "github.com/tlsbootstrap/tlsbootstrap/examples/node-agent")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	grant(t, ctx)
	client, err := kubernetes.NewForConfig(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctrlDone := make(chan error, 1)
	go func() {
		ctrlDone <- controller.Run(ctx, client, controller.Options{
			Controllers:      []string{controller.CSRApproving, controller.CSRSigning},
			ClusterSigningCA: cp.CA.Signing(),
		})
	}()
	defer func() { cancel(); <-ctrlDone }()

	bootstrap := testenv.BootstrapKubeconfig(t, cp)
	prefix := fmt.Sprintf("kill%d", time.Now().UnixNano()%100000)
	rot := agent{bin: bin, bootstrap: bootstrap, dir: filepath.Join(dir, "rot"), nodeName: prefix + "-rot"}
	if err := rot.restart(); err != nil {
		t.Fatalf("first bootstrap of the rotating node: %v", err)
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 12))
	var survived, killedBoot, killedRot, finishedFirst int
	deadline := time.Now().Add(time.Duration(n) * 5 * time.Second)
	for i := 0; i < n && time.Now().Before(deadline); i++ {
		var a agent
		var killed bool
		var err error
		if i%2 == 0 {
			a = agent{bin: bin, bootstrap: bootstrap, dir: filepath.Join(dir, fmt.Sprintf("boot%d", i)), nodeName: fmt.Sprintf("%s-b%d", prefix, i)}
			killed, err = a.killAfter(time.Duration(rng.Int64N(int64(700 * time.Millisecond))))
			if killed {
				killedBoot++
			}
		} else {
			a = rot
			killed, err = a.killAfter(time.Duration(rng.Int64N(int64(1500*time.Millisecond))), "--renew-after", "150ms")
			if killed {
				killedRot++
			}
		}
		if !killed {
			finishedFirst++
			if err != nil {
				t.Errorf("kill %d: agent exited on its own with %v", i, err)
			}
		}
		if err := checkCertDir(a.certDir()); err != nil {
			t.Errorf("kill %d (%s): right after the kill: %v", i, a.nodeName, err)
			continue
		}
		if err := a.restart(); err != nil {
			t.Errorf("kill %d (%s): %v", i, a.nodeName, err)
			continue
		}
		if err := checkValid(a); err != nil {
			t.Errorf("kill %d (%s): after restart: %v", i, a.nodeName, err)
			continue
		}
		survived++
	}
	// Renewal CSRs are made by the node itself; count those issued (the store keeps only
	// the last few pair files, so files cannot tell).
	list, err := client.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	renewals := 0
	for _, c := range list.Items {
		if c.Spec.Username == "system:node:"+rot.nodeName && len(c.Status.Certificate) > 0 {
			renewals++
		}
	}
	summary := fmt.Sprintf("node-agent kills: %d of %d runs recovered (%d SIGKILLs during bootstrap, %d during rotation, %d runs finished before the kill; %d renewals issued to the rotating node between kills)\n",
		survived, n, killedBoot, killedRot, finishedFirst, renewals)
	t.Log(summary)
	if path := os.Getenv("KILLS_SUMMARY"); path != "" {
		_ = os.WriteFile(path, []byte(summary), 0o644)
	}
	if survived != n {
		t.Errorf("%d of %d kills survived", survived, n)
	}
	if renewals == 0 {
		t.Error("no renewal was issued to the rotating node: no kill can have landed during rotation")
	}
	if killedBoot == 0 || killedRot == 0 {
		t.Errorf("no kill landed during bootstrap (%d) or rotation (%d): the test proves nothing", killedBoot, killedRot)
	}
}

func grant(t *testing.T, ctx context.Context) {
	t.Helper()
	for name, b := range map[string][2]string{
		"killloop-bootstrapper": {"system:node-bootstrapper", "system:bootstrappers"},
		"killloop-nodeclient":   {"system:certificates.k8s.io:certificatesigningrequests:nodeclient", "system:bootstrappers"},
		"killloop-selfnode":     {"system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", "system:nodes"},
	} {
		if _, err := cp.Client().RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: b[0]},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: b[1]}},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}
