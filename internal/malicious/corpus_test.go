package malicious_test

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/malicious"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
)

var cp *controlplane.ControlPlane

func TestMain(m *testing.M) { testenv.Main(m, controlplane.Options{}, &cp) }

func TestCasesBuild(t *testing.T) {
	cases, err := malicious.Cases("build")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 100 {
		t.Fatalf("corpus has %d cases, want at least 100", len(cases))
	}
	for _, c := range cases {
		if c.Want == 0 || c.Category == "" {
			t.Errorf("case %s has no expected outcome or category", c.Name)
		}
		if c.DenyRule != "" && c.Want != malicious.NotApproved {
			t.Errorf("case %s must be denied by %s but allows %s", c.Name, c.DenyRule, c.Want)
		}
	}
}

// TestServingNodesDistinct: no address or name of a Node that a legitimate case needs is
// held by another Node of the corpus (UniqueAddress would deny it), in the form serving
// approval compares; and runs with other prefixes use other names.
func TestServingNodesDistinct(t *testing.T) {
	cases, err := malicious.Cases("build")
	if err != nil {
		t.Fatal(err)
	}
	holders := map[csr.SAN][]string{}
	specs := map[string]malicious.NodeSpec{}
	for _, c := range cases {
		for _, n := range c.Nodes {
			if prev, ok := specs[n.Name]; ok {
				if !reflect.DeepEqual(prev, n) {
					t.Errorf("Node %s has two specs", n.Name)
				}
				continue
			}
			specs[n.Name] = n
			sans := csr.NodeSANs(n.Addresses)
			sans[csr.DNSSAN(n.Name)] = true
			for san := range sans {
				holders[san] = append(holders[san], n.Name)
			}
		}
	}
	legit := 0
	for _, c := range cases {
		if c.Want&(malicious.Approved|malicious.Signed) == 0 {
			continue
		}
		for _, n := range c.Nodes {
			legit++
			sans := csr.NodeSANs(n.Addresses)
			sans[csr.DNSSAN(n.Name)] = true
			for san := range sans {
				if len(holders[san]) != 1 {
					t.Errorf("case %s: %s of Node %s is held by Nodes %v", c.Name, san, n.Name, holders[san])
				}
			}
		}
	}
	if legit < 20 {
		t.Errorf("only %d Nodes of legitimate serving cases", legit)
	}
	other, err := malicious.Cases("other")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range other {
		for _, n := range c.Nodes {
			if _, ok := specs[n.Name]; ok {
				t.Errorf("prefixes build and other both make Node %s", n.Name)
			}
		}
	}
}

// TestCorpus submits every case through the real API server with the project's controller
// (approving, serving approving, signing) running, and requires zero wrong decisions.
// MALICIOUS_SUMMARY names a file that receives the report (make reliability).
func TestCorpus(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	client, err := kubernetes.NewForConfig(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctrlCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- controller.Run(klog.NewContext(ctrlCtx, klog.NewKlogr().V(4)), client, controller.Options{
			Controllers:      []string{controller.CSRApproving, controller.ServingApproving, controller.CSRSigning},
			ClusterSigningCA: cp.CA.Signing(),
			SARCacheTTL:      new(time.Second),
		})
	}()
	defer func() {
		stop()
		if err := <-done; err != nil && ctx.Err() == nil {
			t.Errorf("controller.Run: %v", err)
		}
	}()

	env, err := malicious.ReadEnv(ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := malicious.CasesFor(fmt.Sprintf("m%d", time.Now().UnixNano()%100000), env)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := malicious.Run(ctx, cases, malicious.Options{Admin: cp.Config, CA: cp.CA.Cert})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.Print(&out)
	t.Log("\n" + out.String())
	if path := os.Getenv("MALICIOUS_SUMMARY"); path != "" {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
	if rep.Cases < 100 {
		t.Errorf("%d cases ran, want at least 100", rep.Cases)
	}
	if rep.WrongApprovals != 0 || rep.WrongSignatures != 0 || rep.Unexpected != 0 {
		t.Errorf("%d wrong approvals, %d wrong signatures, %d unexpected outcomes (see the table)", rep.WrongApprovals, rep.WrongSignatures, rep.Unexpected)
	}
	if rep.Issued == 0 {
		t.Error("no certificate was issued: the baselines did not work, so the run proves nothing")
	}
}
