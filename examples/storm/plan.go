package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// plan is one controller row: which controller, its label in the report and, for kcm,
// extra flags.
type plan struct {
	controller string
	label      string
	kcmArgs    []string
}

// runPlan runs one controller row on a fresh cluster: the join wave and, with --renew,
// the renewal wave.
func runPlan(ctx context.Context, f *flags, p plan, nodes []*simNode, warm *simNode) ([]row, error) {
	c, err := newCluster(f)
	if err != nil {
		return nil, err
	}
	defer c.close()
	tok, err := c.bootstrapToken(ctx)
	if err != nil {
		return nil, err
	}
	admin, err := c.adminClient()
	if err != nil {
		return nil, err
	}
	obsCtx, stopObserver := context.WithCancel(ctx)
	defer stopObserver()
	obs, err := startObserver(obsCtx, admin)
	if err != nil {
		return nil, err
	}

	var rc *runningController
	switch p.controller {
	case controllerTLSBootstrap:
		rc, err = startTLSBootstrap(ctx, f, c)
	case controllerKCM:
		rc, err = startKCM(ctx, f, c, p.kcmArgs)
	case controllerOracle:
		rc, err = startOracleFor(ctx, f, c, nodes, warm)
	}
	if err != nil {
		return nil, err
	}
	if rc != nil {
		defer rc.stop()
	}
	if err := warmUp(ctx, c, warm); err != nil {
		return nil, err
	}

	join, err := measureWave(ctx, f, p, rc, obs, "join", nodes, joinRequest, func(*simNode) (*rest.Config, error) { return c.tokenConfig(tok), nil })
	if err != nil {
		return nil, err
	}
	rows := []row{join}
	if f.renew {
		renew, err := measureWave(ctx, f, p, rc, obs, "renew", nodes, renewRequest, renewalConfig(c))
		if err != nil {
			return nil, err
		}
		rows = append(rows, renew)
	}
	if f.restart && p.controller == controllerTLSBootstrap {
		rc.stop()
		restart, err := measureRestart(ctx, f, p, c)
		if err != nil {
			return nil, err
		}
		rows = append(rows, restart)
	}
	return rows, nil
}

// measureRestart starts a fresh tlsbootstrap controller with every CSR of the waves in
// the cluster: WALL is its time to ready (informers synced, controllers running), and CPU
// and peak RSS are its own, from its start.
func measureRestart(ctx context.Context, f *flags, p plan, c *cluster) (row, error) {
	admin, err := c.adminClient()
	if err != nil {
		return row{}, err
	}
	list, err := admin.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
	if err != nil {
		return row{}, fmt.Errorf("counting the CSRs: %w", err)
	}
	r := row{Name: p.label, Wave: waveRestart, Nodes: len(list.Items)}
	start := time.Now()
	rc, err := startTLSBootstrap(ctx, f, c)
	if err != nil {
		return r, fmt.Errorf("restarting the controller: %w", err)
	}
	defer rc.stop()
	r.WallSeconds = time.Since(start).Seconds()
	// As after a wave: let the informers' first resync of work settle.
	time.Sleep(2 * time.Second)
	after, err := rc.sample()
	if err != nil {
		return r, err
	}
	r.CPUSeconds, r.PeakRSSMiB = after.cpu.Seconds(), float64(after.peakRSS)/(1<<20)
	r.Measured = "child process from its start, /proc stat+status"
	return r, nil
}

// startOracleFor signs every request of the run (the warm-up's, each node's join and
// renewal) before any clock starts and runs the oracle with those answers.
func startOracleFor(ctx context.Context, f *flags, c *cluster, nodes []*simNode, warm *simNode) (*runningController, error) {
	requests := []*preparedRequest{warm.join}
	for _, n := range nodes {
		requests = append(requests, n.join, n.renew)
	}
	dir, err := os.MkdirTemp("", "storm-oracle-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir) // the oracle reads it at start
	answers := filepath.Join(dir, "answers.json")
	if err := writeAnswers(answers, c, requests); err != nil {
		return nil, err
	}
	return startOracle(ctx, f, c, answers)
}

// warmUp waits until the controller issues one certificate, so that a wave measures a
// running controller, not its start. The warm-up CSR comes from another bootstrap
// identity (impersonated), so it does not fill the SAR cache for the wave.
func warmUp(ctx context.Context, c *cluster, n *simNode) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cfg := rest.CopyConfig(c.admin)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: token.UserPrefix + "warmup",
		Groups:   []string{token.DefaultGroup, token.KubeadmDefaultGroup, "system:authenticated"},
	}
	if err := n.request(ctx, cfg, n.join); err != nil {
		return fmt.Errorf("warm-up certificate (is the controller running?): %w", err)
	}
	return nil
}

// measureWave runs one wave and turns the controller's and the watch's figures into a row.
func measureWave(ctx context.Context, f *flags, p plan, rc *runningController, obs *observer, waveName string, nodes []*simNode, pick func(*simNode) *preparedRequest, configFor func(*simNode) (*rest.Config, error)) (row, error) {
	r := row{Name: p.label, Wave: waveName, Nodes: len(nodes)}
	var before procSample
	var reqBefore map[string]float64
	var err error
	if rc != nil {
		if before, err = rc.sample(); err != nil {
			return r, err
		}
		if reqBefore, err = rc.requests(ctx); err != nil {
			return r, err
		}
	}
	wall, err := wave(ctx, nodes, f.concurrency, pick, configFor)
	if err != nil {
		return r, fmt.Errorf("%s wave: %w", waveName, err)
	}
	r.setThroughput(wall)
	approval, issuance, err := obs.latencies(ctx, csrNames(nodes))
	if err != nil {
		return r, err
	}
	r.Approval, r.Issuance = summarize(approval), summarize(issuance)
	if rc == nil {
		r.Measured = "controller not run by storm"
		return r, nil
	}
	// The controller may still be writing Events for the last CSRs: let it settle.
	time.Sleep(2 * time.Second)
	after, err := rc.sample()
	if err != nil {
		return r, err
	}
	r.CPUSeconds = (after.cpu - before.cpu).Seconds()
	r.CPUMillisPerCert = 1000 * r.CPUSeconds / float64(len(nodes))
	r.PeakRSSMiB = float64(after.peakRSS) / (1 << 20)
	r.Measured = "child process, /proc stat+status"
	reqAfter, err := rc.requests(ctx)
	if err != nil {
		return r, err
	}
	if reqAfter != nil {
		r.Requests = map[string]float64{}
		total := 0.0
		for k, v := range reqAfter {
			if d := v - reqBefore[k]; d > 0 {
				r.Requests[k] = d
				total += d
			}
		}
		perCSR := total / float64(len(nodes))
		r.RequestsPerCSR = &perCSR
	}
	return r, nil
}
