package conformance_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
	"github.com/tlsbootstrap/tlsbootstrap/conformance"
	"github.com/tlsbootstrap/tlsbootstrap/examples/controllerconformance"
	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// nodeAgentCommand is the node command template for the project's node-agent.
func nodeAgentCommand() []string {
	return []string{nodeAgent, "--once", "--timeout=60s",
		"--bootstrap-kubeconfig=" + conformance.PlaceholderBootstrapKubeconfig,
		"--kubeconfig=" + conformance.PlaceholderKubeconfig,
		"--cert-dir=" + conformance.PlaceholderCertDir,
		"--node-name=" + conformance.PlaceholderNodeName}
}

// nodeAgentRotateCommand runs the project's node-agent as a long-running node that
// renews its client certificate 3s after loading each one.
func nodeAgentRotateCommand() []string {
	return []string{nodeAgent, "--renew-after=3s",
		"--bootstrap-kubeconfig=" + conformance.PlaceholderBootstrapKubeconfig,
		"--kubeconfig=" + conformance.PlaceholderKubeconfig,
		"--cert-dir=" + conformance.PlaceholderCertDir,
		"--node-name=" + conformance.PlaceholderNodeName}
}

// runSuite runs cfg on the package's control plane and fails t unless every case
// listed in mustPass (and every core case) SUCCEEDED.
func runSuite(t *testing.T, cfg conformance.Options, mustPass ...string) *conformance.Report {
	t.Helper()
	cfg.RESTConfig = cp.Config
	cfg.CACertPEM = cp.CA.CertPEM
	cfg.ObservationWindow = 3 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	report, err := conformance.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	if err := report.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", table.String())
	if !report.CorePassed() {
		t.Errorf("not every core case passed")
	}
	for _, c := range report.Cases {
		for _, name := range mustPass {
			if c.FullName() == name && c.Result != conformance.Succeeded {
				t.Errorf("%s: %s, want %s: %s", name, c.Result, conformance.Succeeded, c.Message)
			}
		}
	}
	return report
}

// TestOwnImplementation: the project's controller (provisioned through the hook, cleaning
// every 2s) and node-agent pass every case, core and extended. The serving profile runs
// in examples/controllerconformance, through RunTests, as another project would.
func TestOwnImplementation(t *testing.T) {
	const cleanerInterval = 2 * time.Second
	var profiles []conformance.Profile
	for _, p := range conformance.Profiles() {
		if p != conformance.ProfileServing {
			profiles = append(profiles, p)
		}
	}
	report := runSuite(t, conformance.Options{
		Implementation:    conformance.Implementation{Name: "tlsbootstrap", Version: "dev"},
		Profiles:          profiles,
		Provision:         controllerconformance.Provision(cp.CA.Signing()),
		NodeCommand:       nodeAgentCommand(),
		NodeRotateCommand: nodeAgentRotateCommand(),
		CleanerInterval:   cleanerInterval,
	}, "node/rotates-before-expiry", "cleaner/retention")
	for _, c := range report.Cases {
		if c.Result != conformance.Succeeded {
			t.Errorf("%s: %s, want every case %s: %s", c.FullName(), c.Result, conformance.Succeeded, c.Message)
		}
	}
	if len(report.Cases) < 30 {
		t.Errorf("ran %d cases, want the whole suite", len(report.Cases))
	}
	if report.StopError != "" {
		t.Errorf("stopping the controller: %s", report.StopError)
	}
}

// TestKubeControllerManager: Kubernetes' own kube-controller-manager passes the core
// approver and signer cases; the serving profile is NOT_SUPPORTED without being
// declared, because the suite knows kube-controller-manager approves no serving CSR.
func TestKubeControllerManager(t *testing.T) {
	var logs bytes.Buffer
	kcm, err := cp.StartControllerManager(context.Background(), controlplane.ControllerManagerOptions{
		Controllers: []string{"csrapproving", "csrsigning", "csrcleaner"},
		Output:      &logs,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = kcm.Stop()
		if t.Failed() {
			t.Logf("kube-controller-manager logs:\n%s", tail(logs.String(), 4000))
		}
	}()
	report := runSuite(t, conformance.Options{
		Implementation: conformance.Implementation{Name: "kube-controller-manager", Version: controlplane.KubernetesVersion},
		Profiles:       []conformance.Profile{conformance.ProfileApprover, conformance.ProfileServing, conformance.ProfileSigner},
	})
	if v, err := cp.Client().Discovery().ServerVersion(); err != nil || report.ServerVersion != v.GitVersion {
		t.Errorf("report.ServerVersion = %q, want the API server's %v (%v)", report.ServerVersion, v, err)
	}
	if got := report.ProfileResults()[conformance.ProfileServing]; got != conformance.NotSupported {
		t.Errorf("serving profile on kube-controller-manager: %s, want %s", got, conformance.NotSupported)
	}
	for _, c := range report.Cases {
		if c.Profile == conformance.ProfileServing && !strings.Contains(c.Message, "approves no kubelet-serving CSR") {
			t.Errorf("%s: message %q does not say why serving approval is not supported", c.FullName(), c.Message)
		}
	}
	if !slices.Contains(report.UnsupportedFeatures, conformance.FeatureServingApproval) {
		t.Errorf("report.UnsupportedFeatures = %v, want it to list %s", report.UnsupportedFeatures, conformance.FeatureServingApproval)
	}
}

// TestServingCatchesApproveAll: an approver that approves every kubelet-serving CSR (one
// that checks no SAN) passes the kubelet-shaped case and fails the foreign-address one,
// with the approval named.
func TestServingCatchesApproveAll(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go approveEveryServingCSR(ctx, cp.Client())
	report, err := conformance.Run(context.Background(), conformance.Options{
		RESTConfig:        cp.Config,
		Focus:             []string{"serving/hostname-and-ipv4-approved", "serving/foreign-ip-not-approved"},
		CaseTimeout:       30 * time.Second,
		ObservationWindow: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]conformance.Result{"serving/hostname-and-ipv4-approved": conformance.Succeeded, "serving/foreign-ip-not-approved": conformance.Failed}
	for _, c := range report.Cases {
		if c.Result != want[c.FullName()] {
			t.Errorf("%s: %s %q, want %s", c.FullName(), c.Result, c.Message, want[c.FullName()])
		}
		if c.Result == conformance.Failed && !strings.Contains(c.Message, "Approved=True") {
			t.Errorf("%s: message %q does not show the approval", c.FullName(), c.Message)
		}
	}
	if len(report.Cases) != 2 || report.CorePassed() {
		t.Errorf("ran %d cases, CorePassed=%t; want 2 cases and a failed run", len(report.Cases), report.CorePassed())
	}
}

// approveEveryServingCSR approves each pending kubelet-serving CSR, looking at nothing
// else, until ctx ends.
func approveEveryServingCSR(ctx context.Context, client kubernetes.Interface) {
	for ctx.Err() == nil {
		list, err := client.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
		if err == nil {
			for _, c := range list.Items {
				if c.Spec.SignerName == certificatesv1.KubeletServingSignerName && len(c.Status.Conditions) == 0 {
					_ = approve.Approve(ctx, client, c.Name, "ApproveAll", "approving without looking")
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestFailsWithoutController: with no approver running, the approval case fails and
// says what it expected and saw; the run then does not pass.
func TestFailsWithoutController(t *testing.T) {
	report, err := conformance.Run(context.Background(), conformance.Options{
		RESTConfig:  cp.Config,
		Focus:       []string{"approver/nodeclient-approved"},
		CaseTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Cases) != 1 {
		t.Fatalf("focus ran %d cases, want 1", len(report.Cases))
	}
	c := report.Cases[0]
	if c.Result != conformance.Failed || !strings.Contains(c.Message, "to be Approved") || !strings.Contains(c.Message, "Pending") {
		t.Errorf("nodeclient-approved with no controller: %s %q, want FAILED naming the expected approval and the Pending state", c.Result, c.Message)
	}
	if report.CorePassed() {
		t.Errorf("CorePassed with a failed core case")
	}
}

// TestRotationPrerequisites: without a rotating node command the rotation case is
// SKIPPED and says what to set; a command that exits instead of staying up fails it.
func TestRotationPrerequisites(t *testing.T) {
	for _, tc := range []struct {
		name    string
		command []string
		want    conformance.Result
		message string
	}{
		{"no command", nil, conformance.Skipped, "Options.NodeRotateCommand"},
		{"command exits", []string{"true", conformance.PlaceholderNodeName}, conformance.Failed, "must keep running, ended (exit status 0)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			report, err := conformance.Run(context.Background(), conformance.Options{
				RESTConfig:        cp.Config,
				NodeRotateCommand: tc.command,
				Focus:             []string{"node/rotates-before-expiry"},
				CaseTimeout:       20 * time.Second,
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(report.Cases) != 1 {
				t.Fatalf("focus ran %d cases, want 1", len(report.Cases))
			}
			if c := report.Cases[0]; c.Result != tc.want || !strings.Contains(c.Message, tc.message) {
				t.Errorf("got %s %q, want %s mentioning %q", c.Result, c.Message, tc.want, tc.message)
			}
		})
	}
}

// TestCleanerPrerequisites: with kube-controller-manager's hourly interval the retention
// case is SKIPPED and says what to set; with a short interval and no cleaner running it
// fails within the interval plus its margin, naming the CSRs left.
func TestCleanerPrerequisites(t *testing.T) {
	for _, tc := range []struct {
		name     string
		interval time.Duration
		want     conformance.Result
		message  string
	}{
		{"hourly cleaner", 0, conformance.Skipped, "Options.CleanerInterval"},
		{"no cleaner running", 2 * time.Second, conformance.Failed, "to delete the CSRs past their retention within 12s; last seen: still there: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			report, err := conformance.Run(context.Background(), conformance.Options{
				RESTConfig:      cp.Config,
				CleanerInterval: tc.interval,
				Focus:           []string{"cleaner/retention"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(report.Cases) != 1 {
				t.Fatalf("focus ran %d cases, want 1", len(report.Cases))
			}
			if c := report.Cases[0]; c.Result != tc.want || !strings.Contains(c.Message, tc.message) {
				t.Errorf("got %s %q, want %s mentioning %q", c.Result, c.Message, tc.want, tc.message)
			}
		})
	}
}
