package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
)

// TestStormSmoke runs the program as a process, as a user would: 20 nodes against the
// tlsbootstrap controller on an embedded control plane, table then JSON.
func TestStormSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two control planes")
	}
	bin, err := testenv.Build(t.TempDir(), "github.com/tlsbootstrap/tlsbootstrap/examples/storm")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	t.Run("table", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, bin, "--nodes", "20", "--controller", "tlsbootstrap")
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("storm failed: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
		}
		out := stdout.String()
		for _, want := range []string{"CERTS/s", "REQ/1k CERTS", "CPU ms/CERT", "PEAK RSS MiB", "configmap writes", "create+2 updates", "tlsbootstrap", "join", "certificates/s vs the ConfigMap writes"} {
			if !strings.Contains(out, want) {
				t.Errorf("the table lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("json", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, bin, "--nodes", "20", "--limit=false", "--json", "--restart")
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("storm --json failed: %v\n%s", err, stderr.String())
		}
		var rep report
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
			t.Fatalf("output is not the JSON report: %v\n%s", err, stdout.String())
		}
		if len(rep.Rows) != 2 {
			t.Fatalf("%d rows, want 2 (tlsbootstrap join and restart): %+v", len(rep.Rows), rep.Rows)
		}
		r := rep.Rows[0]
		if r.Name != "tlsbootstrap" || r.Wave != "join" || r.Nodes != 20 {
			t.Errorf("row = %s/%s/%d nodes, want tlsbootstrap/join/20", r.Name, r.Wave, r.Nodes)
		}
		if r.PerSecond <= 0 || r.Issuance.Max <= 0 || r.Issuance.Max < r.Issuance.P50 || r.Approval.P50 > r.Issuance.P50 {
			t.Errorf("implausible figures: %+v", r)
		}
		if r.RequestsPerCSR == nil || *r.RequestsPerCSR < 1 {
			t.Errorf("requests per CSR = %v, want at least the approval update each", r.RequestsPerCSR)
		}
		if r.PeakRSSMiB <= 0 || r.CPUSeconds <= 0 {
			t.Errorf("no peak RSS or CPU time for the controller: %+v", r)
		}
		// The restarted controller found the 20 CSRs and the warm-up one. Its CPU time for
		// 21 CSRs is about one clock tick (10 ms), which the kernel may charge as none, so it
		// is not checked here (the join row's is).
		rs := rep.Rows[1]
		if rs.Wave != waveRestart || rs.Nodes != 21 || rs.WallSeconds <= 0 || rs.PeakRSSMiB <= 0 {
			t.Errorf("restart row = %+v, want 21 CSRs, a time to ready and peak RSS", rs)
		}
		var checked bool
		for _, rt := range rep.Ratios {
			checked = checked || rt.Wave == waveRestart && strings.Contains(rt.Check, "peak RSS")
		}
		if !checked {
			t.Errorf("no RSS check for the restart: %+v", rep.Ratios)
		}
	})
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
		plans   []string
	}{
		{name: "defaults", args: nil, plans: []string{"tlsbootstrap"}},
		{name: "kcm default", args: []string{"--controller", "kcm"}, plans: []string{"kcm default"}},
		{name: "kcm tuned", args: []string{"--controller", "kcm", "--kcm-args", "--kube-api-qps=500"}, plans: []string{"kcm tuned"}},
		{name: "compare", args: []string{"--compare"}, plans: []string{"oracle", "tlsbootstrap", "kcm default", "kcm tuned"}},
		{name: "oracle", args: []string{"--controller", "oracle"}, plans: []string{"oracle"}},
		{name: "oracle on a kubeconfig", args: []string{"--controller", "oracle", "--kubeconfig", "k"}, wantErr: "fresh embedded"},
		{name: "no nodes", args: []string{"--nodes", "0"}, wantErr: "--nodes"},
		{name: "no concurrency", args: []string{"--concurrency", "0"}, wantErr: "--concurrency"},
		{name: "unknown controller", args: []string{"--controller", "x"}, wantErr: "--controller"},
		{name: "compare on a kubeconfig", args: []string{"--compare", "--kubeconfig", "k"}, wantErr: "fresh embedded"},
		{name: "kubeconfig without CA", args: []string{"--kubeconfig", "k"}, wantErr: "--ca-cert"},
		{name: "none without kubeconfig", args: []string{"--controller", "none"}, wantErr: "needs --kubeconfig"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := parse(tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parse(%v) = %v, want an error about %q", tc.args, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var labels []string
			for _, p := range f.plans() {
				labels = append(labels, p.label)
			}
			if strings.Join(labels, ",") != strings.Join(tc.plans, ",") {
				t.Errorf("plans = %v, want %v", labels, tc.plans)
			}
		})
	}
}
