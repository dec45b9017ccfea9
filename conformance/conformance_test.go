package conformance_test

import (
	"bytes"
	"context"
	"k8s.io/klog/v2"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/tlsbootstrap/tlsbootstrap/conformance"
	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
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

// TestOwnImplementation: the project's controller (in-process, cleaning every 2s) and
// node-agent pass every case, core and extended.
func TestOwnImplementation(t *testing.T) {
	const cleanerInterval = 2 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- controller.Run(klog.NewContext(ctx, logr.Discard()), cp.Client(), controller.Options{
			Controllers:      []string{controller.CSRApproving, controller.ServingApproving, controller.CSRSigning, controller.CSRCleaner},
			ClusterSigningCA: cp.CA.Signing(),
			CleanerInterval:  cleanerInterval,
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("controller.Run: %v", err)
		}
	}()
	report := runSuite(t, conformance.Options{
		Implementation:    conformance.Implementation{Name: "tlsbootstrap", Version: "dev"},
		NodeCommand:       nodeAgentCommand(),
		NodeRotateCommand: nodeAgentRotateCommand(),
		CleanerInterval:   cleanerInterval,
	}, "approver/serving-approved-with-node-sans", "approver/serving-foreign-san-not-approved",
		"node/rotates-before-expiry", "cleaner/retention")
	for _, c := range report.Cases {
		if c.Result != conformance.Succeeded {
			t.Errorf("%s: %s, want every case %s: %s", c.FullName(), c.Result, conformance.Succeeded, c.Message)
		}
	}
	if len(report.Cases) < 30 {
		t.Errorf("ran %d cases, want the whole suite", len(report.Cases))
	}
}

// TestKubeControllerManager: Kubernetes' own kube-controller-manager v1.37.2 passes the
// core approver and signer cases; serving approval is reported NOT_SUPPORTED.
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
		Implementation:      conformance.Implementation{Name: "kube-controller-manager", Version: controlplane.KubernetesVersion},
		Profiles:            []conformance.Profile{conformance.ProfileApprover, conformance.ProfileSigner},
		UnsupportedFeatures: []conformance.Feature{conformance.FeatureServingApproval},
	})
	for _, c := range report.Cases {
		if !c.Core && c.Result != conformance.NotSupported {
			t.Errorf("%s: %s, want %s", c.FullName(), c.Result, conformance.NotSupported)
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
