package controller_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/node"
	"github.com/tlsbootstrap/tlsbootstrap/rbac"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

var cp *controlplane.ControlPlane

func TestMain(m *testing.M) {
	testenv.Main(m, controlplane.Options{}, &cp, func(cp *controlplane.ControlPlane) (func(), error) {
		return nil, rbac.Apply(context.Background(), cp.Client(), rbac.KubeadmPreset(token.KubeadmDefaultGroup))
	})
}

func bootstrapNode(ctx context.Context, t *testing.T, name string) *node.Result {
	t.Helper()
	dir := t.TempDir()
	res, err := node.Bootstrap(ctx, node.Options{
		BootstrapKubeconfig: testenv.BootstrapKubeconfig(t, cp),
		Kubeconfig:          filepath.Join(dir, "kubelet.kubeconfig"),
		CertDir:             filepath.Join(dir, "pki"),
		NodeName:            name,
	})
	if err != nil {
		t.Fatalf("bootstrapping %s: %v", name, err)
	}
	return res
}

// startController runs controller.Run until the test ends and returns its registry and a
// stop function that waits for Run to return.
func startController(t *testing.T, opts controller.Options) (*prometheus.Registry, func() error) {
	t.Helper()
	opts.ClusterSigningCA = cp.CA.Signing()
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- controller.Run(ctx, cp.Client(), opts) }()
	var stopped bool
	var result error
	stop := func() error {
		if !stopped {
			stopped = true
			cancel()
			result = <-done
		}
		return result
	}
	t.Cleanup(func() { _ = stop() })
	return opts.Registry, stop
}

func signedCount(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, f := range families {
		if f.GetName() != "tlsbootstrap_signed_certificates_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			if label(m, "result") == "signed" {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func TestNodeBootstrapsThroughController(t *testing.T) {
	reg, _ := startController(t, controller.Options{SigningDuration: 24 * time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res := bootstrapNode(ctx, t, "ctrl-node")

	if err := res.Certificate.CheckSignatureFrom(cp.CA.Cert); err != nil {
		t.Errorf("certificate does not chain to the cluster CA: %v", err)
	}
	if life := res.Certificate.NotAfter.Sub(res.Certificate.NotBefore); life != 24*time.Hour {
		t.Errorf("lifetime %s, want 24h (signing duration, 5m backdate, 5m early end)", life)
	}
	obj, err := cp.Client().CertificatesV1().CertificateSigningRequests().Get(ctx, res.CSRName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := obj.Status.Conditions; len(c) == 0 || c[0].Type != certificatesv1.CertificateApproved || c[0].Reason != "AutoApproved" ||
		c[0].Message != "Auto approving kubelet client certificate after SubjectAccessReview." {
		t.Errorf("conditions %+v, want AutoApproved with the upstream nodeclient message", c)
	}
	// The issued certificate authenticates as the node.
	if u := testenv.WhoAmI(t, res.Kubeconfig); u.Username != csr.NodeUserPrefix+"ctrl-node" || !slices.Contains(u.Groups, csr.NodesGroup) {
		t.Errorf("node kubeconfig authenticates as %q %v", u.Username, u.Groups)
	}
	if n := signedCount(t, reg); n < 1 {
		t.Errorf("signed counter %v, want ≥ 1", n)
	}
	// An Event for the approval and one for the signature, on the CSR.
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		events, err := cp.Client().CoreV1().Events("default").List(ctx, metav1.ListOptions{
			FieldSelector: fields.OneTermEqualSelector("involvedObject.name", res.CSRName).String(),
		})
		if err != nil {
			return false, err
		}
		reasons := map[string]bool{}
		for _, e := range events.Items {
			reasons[e.Reason] = true
		}
		return reasons["AutoApproved"] && reasons["Signed"], nil
	})
	if err != nil {
		t.Errorf("no AutoApproved and Signed events on %s: %v", res.CSRName, err)
	}
}

func TestOptionsErrors(t *testing.T) {
	for name, opts := range map[string]controller.Options{
		"unknown controller":        {Controllers: []string{"csrapproving", "nodeipam"}},
		"serving without approving": {Controllers: []string{"servingapproving", "csrsigning"}, ClusterSigningCA: &sign.CA{}},
		"signing without CA":        {Controllers: []string{"csrsigning"}},
	} {
		if err := controller.Run(context.Background(), cp.Client(), opts); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestLeaderElection: of two replicas only the Lease holder signs; when it dies without
// releasing the Lease, the other takes over and issues what is pending.
func TestLeaderElection(t *testing.T) {
	le := func(id string) controller.Options {
		return controller.Options{
			Controllers: []string{controller.CSRApproving, controller.CSRSigning},
			LeaderElection: controller.LeaderElection{
				Enabled: true, Name: "le-test", Identity: id,
				LeaseDuration: 3 * time.Second, RenewDeadline: 2 * time.Second, RetryPeriod: 500 * time.Millisecond,
			},
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	regA, stopA := startController(t, le("replica-a"))
	waitHolder(ctx, t, "le-test", "replica-a")
	regB, _ := startController(t, le("replica-b"))

	bootstrapNode(ctx, t, "le-node-1")
	bootstrapNode(ctx, t, "le-node-2")
	if a, b := signedCount(t, regA), signedCount(t, regB); a != 2 || b != 0 {
		t.Fatalf("signed by leader %v, by follower %v; want 2 and 0", a, b)
	}
	// Only the leader exports the backlog.
	client := certificatesv1.KubeAPIServerClientKubeletSignerName
	if n, ok := backlog(t, regA, client, "issued"); !ok || n < 2 {
		t.Errorf("leader's tlsbootstrap_csrs{state=issued} = %v (present %t), want ≥ 2", n, ok)
	}
	if _, ok := backlog(t, regB, client, "issued"); ok {
		t.Errorf("the follower exports tlsbootstrap_csrs")
	}

	// The leader dies without giving up the Lease (ReleaseOnCancel is off).
	if err := stopA(); err != nil && !errors.Is(err, context.Canceled) {
		t.Logf("replica-a stopped: %v", err)
	}
	// A node asking now waits for replica-b to take over after the Lease expires.
	bootstrapNode(ctx, t, "le-node-3")
	waitHolder(ctx, t, "le-test", "replica-b")
	if a, b := signedCount(t, regA), signedCount(t, regB); a != 2 || b != 1 {
		t.Errorf("after failover: signed by old leader %v, by new leader %v; want 2 and 1", a, b)
	}
	// The stopped leader's backlog is cleared, not left stale; the new leader's counts all.
	if _, ok := backlog(t, regA, client, "issued"); ok {
		t.Errorf("the stopped leader still exports tlsbootstrap_csrs")
	}
	if n, ok := backlog(t, regB, client, "issued"); !ok || n < 3 {
		t.Errorf("new leader's tlsbootstrap_csrs{state=issued} = %v (present %t), want ≥ 3", n, ok)
	}
}

func waitHolder(ctx context.Context, t *testing.T, lease, id string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		l, err := cp.Client().CoordinationV1().Leases("kube-system").Get(ctx, lease, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		return l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity == id, nil
	})
	if err != nil {
		t.Fatalf("%s did not become the holder of lease %s: %v", id, lease, err)
	}
}
