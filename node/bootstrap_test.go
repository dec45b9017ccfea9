package node_test

import (
	"context"
	"crypto"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/klog/v2"

	certificatesv1 "k8s.io/api/certificates/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2/textlogger"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/node"
	"github.com/tlsbootstrap/tlsbootstrap/rotate"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

var cp *controlplane.ControlPlane

// Groups: every test token may create CSRs; only tokens in approvedGroup get auto-approval.
const approvedGroup = "system:bootstrappers:node-test-approved"

func TestMain(m *testing.M) { testenv.Main(m, controlplane.Options{}, &cp, setup) }

// setup grants the bootstrap RBAC and runs Kubernetes' own kube-controller-manager as the
// approver and signer for the package.
func setup(cp *controlplane.ControlPlane) (func(), error) {
	ctx := context.Background()
	admin := cp.Client()
	for name, b := range map[string][2]string{
		"node-test-bootstrapper": {"system:node-bootstrapper", "system:bootstrappers"},
		"node-test-nodeclient":   {"system:certificates.k8s.io:certificatesigningrequests:nodeclient", approvedGroup},
	} {
		_, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: b[0]},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: b[1]}},
		}, metav1.CreateOptions{})
		if err != nil {
			return nil, err
		}
	}
	kcm, err := cp.StartControllerManager(ctx, controlplane.ControllerManagerOptions{SigningDuration: 24 * time.Hour})
	if err != nil {
		return nil, err
	}
	return func() { _ = kcm.Stop() }, nil
}

// newToken creates a bootstrap token with the given extra groups and expiry, and writes a
// bootstrap kubeconfig for it.
func newToken(t *testing.T, expires time.Time, groups ...string) (token.Token, string) {
	t.Helper()
	tok := testenv.WriteToken(t, cp, expires, groups...)
	return tok, writeBootstrapKubeconfig(t, tok.Reveal(), cp.ServingCAPEM())
}

func writeBootstrapKubeconfig(t *testing.T, tokenValue string, caPEM []byte) string {
	t.Helper()
	cfg, err := kubeconfig.BootstrapConfig(kubeconfig.BootstrapOptions{Server: cp.Host(), CAData: caPEM, Token: token.NewSecret(tokenValue)})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bootstrap.kubeconfig")
	if err := kubeconfig.Write(path, cfg); err != nil {
		t.Fatal(err)
	}
	return path
}

func nodeOptions(t *testing.T, bootstrapPath, nodeName string) node.Options {
	dir := t.TempDir()
	return node.Options{
		BootstrapKubeconfig: bootstrapPath,
		Kubeconfig:          filepath.Join(dir, "kubelet.kubeconfig"),
		CertDir:             filepath.Join(dir, "pki"),
		NodeName:            nodeName,
		ServerWaitTimeout:   10 * time.Second,
		AuthRetryGrace:      new(time.Duration(0)), // a rejected token fails at once; TestRejectedTokenRetriedForGrace covers the grace
	}
}

func countCSRs(t *testing.T) int {
	t.Helper()
	list, err := cp.Client().CertificatesV1().CertificateSigningRequests().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return len(list.Items)
}

func TestBootstrapEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tok, bootstrapPath := newToken(t, time.Now().Add(time.Hour), approvedGroup)
	opts := nodeOptions(t, bootstrapPath, "e2e-node")

	res, err := node.Bootstrap(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped || res.Reused || res.CSRName == "" {
		t.Fatalf("result %+v, want a new CSR", res)
	}
	// The CSR was made by the bootstrap identity.
	obj, err := cp.Client().CertificatesV1().CertificateSigningRequests().Get(ctx, res.CSRName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "system:bootstrap:" + tok.ID; obj.Spec.Username != want {
		t.Errorf("CSR requested by %q, want %q", obj.Spec.Username, want)
	}
	// Files: kubeconfig and the current pair 0600, no temporary key left.
	for _, path := range []string{opts.Kubeconfig, filepath.Join(opts.CertDir, "kubelet-client-current.pem")} {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", path, info.Mode().Perm())
		}
	}
	if _, err := os.Stat(filepath.Join(opts.CertDir, node.TempKeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary key still present: %v", err)
	}
	// The new kubeconfig authenticates as the node.
	if u := testenv.WhoAmI(t, opts.Kubeconfig); u.Username != "system:node:e2e-node" || !slices.Contains(u.Groups, "system:nodes") {
		t.Errorf("node kubeconfig authenticates as %q %v, want system:node:e2e-node in system:nodes", u.Username, u.Groups)
	}

	// A second run with a valid kubeconfig creates no CSR.
	before := countCSRs(t)
	again, err := node.Bootstrap(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Skipped || countCSRs(t) != before {
		t.Errorf("second run: %+v and %d→%d CSRs, want skipped and no new CSR", again, before, countCSRs(t))
	}

	// With the kubeconfig lost but the certificate valid, only the kubeconfig is rewritten.
	if err := os.Remove(opts.Kubeconfig); err != nil {
		t.Fatal(err)
	}
	reused, err := node.Bootstrap(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !reused.Reused || countCSRs(t) != before {
		t.Errorf("lost kubeconfig: %+v, want the cert-dir certificate reused without a CSR", reused)
	}
	if _, err := kubeconfig.Check(opts.Kubeconfig, time.Now()); err != nil {
		t.Errorf("rewritten kubeconfig not usable: %v", err)
	}
}

// TestBootstrapResumesAfterInterruption: a run that gives up while its CSR is pending
// leaves its key; the next run reuses that key and so the same CSR, which is then issued.
func TestBootstrapResumesAfterInterruption(t *testing.T) {
	const group = "system:bootstrappers:node-test-resume"
	_, bootstrapPath := newToken(t, time.Now().Add(time.Hour), group)
	opts := nodeOptions(t, bootstrapPath, "resume-node")

	short, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	first, err := node.Bootstrap(short, opts)
	var waitErr *csr.WaitError
	if !errors.As(err, &waitErr) {
		t.Fatalf("first run: %v, want a wait error (no approval without the grant)", err)
	}
	keyBefore, err := os.ReadFile(filepath.Join(opts.CertDir, node.TempKeyFile))
	if err != nil {
		t.Fatalf("the interrupted run left no key: %v", err)
	}

	// Grant auto-approval to the token's group, as an admin fixing RBAC would.
	_, err = cp.Client().RbacV1().ClusterRoleBindings().Create(context.Background(), &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "node-test-resume"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:certificates.k8s.io:certificatesigningrequests:nodeclient"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: group}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel2 := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel2()
	second, err := node.Bootstrap(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if second.CSRName != first.CSRName {
		t.Errorf("resumed with CSR %q, want the interrupted one %q", second.CSRName, first.CSRName)
	}
	current, err := rotate.ParsePair(mustRead(t, filepath.Join(opts.CertDir, "kubelet-client-current.pem")))
	if err != nil {
		t.Fatal(err)
	}
	key, err := csr.ParseKeyPEM(keyBefore)
	if err != nil {
		t.Fatal(err)
	}
	if !key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(current.Leaf.PublicKey) {
		t.Error("issued certificate is not for the key kept by the interrupted run")
	}
}

func TestBootstrapDenied(t *testing.T) {
	_, bootstrapPath := newToken(t, time.Now().Add(time.Hour)) // no auto-approval
	opts := nodeOptions(t, bootstrapPath, "denied-node")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	go func() {
		admin := cp.Client().CertificatesV1().CertificateSigningRequests()
		_ = wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			list, err := admin.List(ctx, metav1.ListOptions{})
			if err != nil {
				return false, nil
			}
			for _, c := range list.Items {
				if c.Spec.Username != "" && len(c.Status.Conditions) == 0 && slices.Contains(c.Spec.Groups, "system:bootstrappers") && !slices.Contains(c.Spec.Groups, approvedGroup) {
					c.Status.Conditions = append(c.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
						Type: certificatesv1.CertificateDenied, Status: "True", Reason: "NotThisNode", Message: "this machine is not in the inventory",
					})
					_, err := admin.UpdateApproval(ctx, c.Name, &c, metav1.UpdateOptions{})
					return err == nil, nil
				}
			}
			return false, nil
		})
	}()
	_, err := node.Bootstrap(ctx, opts)
	var denied *csr.DeniedError
	if !errors.As(err, &denied) || denied.Reason != "NotThisNode" {
		t.Fatalf("got %v, want a denial with reason NotThisNode", err)
	}
	if !strings.Contains(err.Error(), "NotThisNode") || !strings.Contains(err.Error(), "inventory") {
		t.Errorf("error %q does not name the reason and message", err)
	}
	// The key behind the denied CSR is dropped, so a retry is a new request, not the same
	// denied CSR again.
	if _, statErr := os.Stat(filepath.Join(opts.CertDir, node.TempKeyFile)); !errors.Is(statErr, os.ErrNotExist) {
		t.Errorf("temporary key kept after a denial: %v", statErr)
	}
}

func TestBootstrapActionableErrors(t *testing.T) {
	other, err := controlplane.NewCA("not-the-cluster")
	if err != nil {
		t.Fatal(err)
	}
	valid, _ := newToken(t, time.Now().Add(time.Hour), approvedGroup)
	_, expiredPath := newToken(t, time.Now().Add(-time.Minute), approvedGroup)
	unknown := "zzzzzz.zzzzzzzzzzzzzzzz"

	for _, tc := range []struct {
		name      string
		bootstrap string
		want      error
	}{
		{"wrong CA", writeBootstrapKubeconfig(t, valid.Reveal(), other.CertPEM), node.ErrCAMismatch},
		{"expired token", expiredPath, node.ErrTokenRejected},
		{"unknown token", writeBootstrapKubeconfig(t, unknown, cp.ServingCAPEM()), node.ErrTokenRejected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := node.Bootstrap(ctx, nodeOptions(t, tc.bootstrap, "err-node"))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := node.Bootstrap(context.Background(), node.Options{}); err == nil {
		t.Error("empty options accepted")
	}
}

// TestRejectedTokenRetriedForGrace: a 401 to the bootstrap token is retried for
// Options.AuthRetryGrace (a restarted API server answers 401 until it has read the token
// Secrets), saying so in the log at once, then fails with ErrTokenRejected.
func TestRejectedTokenRetriedForGrace(t *testing.T) {
	const grace = 3 * time.Second
	opts := nodeOptions(t, writeBootstrapKubeconfig(t, "zzzzzz.zzzzzzzzzzzzzzzz", cp.ServingCAPEM()), "grace-node")
	opts.AuthRetryGrace = new(grace)
	var logs testenv.SyncBuffer
	ctx, cancel := context.WithTimeout(klog.NewContext(context.Background(), textlogger.NewLogger(textlogger.NewConfig(textlogger.Output(&logs)))), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err := node.Bootstrap(ctx, opts)
	took := time.Since(start)
	if !errors.Is(err, node.ErrTokenRejected) {
		t.Fatalf("got %v, want ErrTokenRejected", err)
	}
	if took < grace || took > grace+5*time.Second {
		t.Errorf("gave up after %s, want after the %s grace", took, grace)
	}
	if log := logs.String(); !strings.Contains(log, "rejected the bootstrap token; retrying") || !strings.Contains(log, grace.String()) {
		t.Errorf("the log does not say the rejection is retried for %s:\n%s", grace, log)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
