package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/tlsbootstrap/tlsbootstrap/internal/clientmetrics"
	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
)

// runningController is the controller under test, a child process whichever it is.
type runningController struct {
	proc *controlplane.Process
	// metricsURL serves its /metrics, with rest_client_requests_total.
	metricsURL string
	// httpClient reads it (kube-controller-manager serves https with a self-signed
	// certificate).
	httpClient *http.Client
	// readyPath answers 200 once the controller runs: /readyz, or kube-controller-manager's
	// /healthz.
	readyPath string
}

func controllerOutput(f *flags) io.Writer {
	if f.verbose {
		return os.Stderr
	}
	return nil
}

// startTLSBootstrap re-executes this binary as the controller (see runChild) and waits
// until it reports ready.
func startTLSBootstrap(ctx context.Context, f *flags, c *cluster) (*runningController, error) {
	args := []string{"--ca-cert=" + c.caCert, "--ca-key=" + c.caKey, fmt.Sprintf("--workers=%d", f.ctrlWorkers)}
	if f.memprofile != "" {
		args = append(args, "--memprofile="+f.memprofile)
	}
	if f.cpuprofile != "" {
		args = append(args, "--cpuprofile="+f.cpuprofile)
	}
	return startSelf(ctx, f, c, childCommand, args)
}

// startOracle re-executes this binary as the oracle (see runOracle) with the answers to
// every request of the run, and waits until it reports ready.
func startOracle(ctx context.Context, f *flags, c *cluster, answersFile string) (*runningController, error) {
	return startSelf(ctx, f, c, oracleCommand, []string{"--answers=" + answersFile, fmt.Sprintf("--workers=%d", f.ctrlWorkers)})
}

// startSelf runs this binary as command with the client limits of the tlsbootstrap
// controller and a metrics address, and waits for its /readyz.
func startSelf(ctx context.Context, f *flags, c *cluster, command string, args []string) (*runningController, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding this program to run %s: %w", command, err)
	}
	addr, err := freeAddress()
	if err != nil {
		return nil, err
	}
	args = append([]string{command, "--kubeconfig=" + c.kubeconfigFile, "--metrics-bind-address=" + addr,
		fmt.Sprintf("--kube-api-qps=%g", f.ctrlQPS), fmt.Sprintf("--kube-api-burst=%d", f.ctrlBurst)}, args...)
	proc, err := controlplane.StartProcess(ctx, self, args, controllerOutput(f))
	if err != nil {
		return nil, err
	}
	rc := &runningController{proc: proc, metricsURL: "http://" + addr, httpClient: http.DefaultClient, readyPath: "/readyz"}
	if err := rc.waitReady(60 * time.Second); err != nil {
		proc.Kill()
		return nil, fmt.Errorf("%s: %w", command, err)
	}
	return rc, nil
}

// waitReady polls readyPath until it answers 200.
func (rc *runningController) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := rc.httpClient.Get(rc.metricsURL + rc.readyPath)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s: %s", rc.readyPath, resp.Status)
		}
		select {
		case <-rc.proc.Done():
			return fmt.Errorf("exited before it was ready: %v", rc.proc.Err())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s (last error: %v)", timeout, err)
		}
	}
}

// startKCM runs the real kube-controller-manager with the CSR controllers.
// Its secure port serves /metrics without authorization (as a Prometheus scrape would be
// allowed), so its own rest_client_requests_total is read the same way as the others'.
func startKCM(ctx context.Context, f *flags, c *cluster, extra []string) (*runningController, error) {
	addr, err := freeAddress()
	if err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(addr)
	metricsArgs := []string{"--bind-address=" + host, "--secure-port=" + port,
		"--authentication-kubeconfig=" + c.kubeconfigFile, "--authorization-kubeconfig=" + c.kubeconfigFile,
		"--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics"}
	proc, err := c.cp.StartControllerManager(ctx, controlplane.ControllerManagerOptions{
		Controllers: []string{"csrapproving", "csrsigning"},
		ExtraArgs:   append(metricsArgs, extra...),
		Output:      controllerOutput(f),
	})
	if err != nil {
		return nil, err
	}
	rc := &runningController{proc: proc, metricsURL: "https://" + addr, readyPath: "/healthz", httpClient: &http.Client{
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, // its own self-signed certificate, on loopback
	}}
	if err := rc.waitReady(60 * time.Second); err != nil {
		proc.Kill()
		return nil, fmt.Errorf("kube-controller-manager: %w", err)
	}
	return rc, nil
}

func (rc *runningController) stop() { _ = rc.proc.Stop() }

// sample reads the process's CPU time and peak RSS.
func (rc *runningController) sample() (procSample, error) { return readProc(rc.proc.PID()) }

// requests reads the controller's rest_client_requests_total by "METHOD code".
func (rc *runningController) requests(ctx context.Context) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rc.metricsURL+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := rc.httpClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading the controller's request counts: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("reading the controller's request counts: /metrics answered %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parsing the controller's /metrics: %w", err)
	}
	counts := map[string]float64{}
	if fam := families[clientmetrics.RequestsMetric]; fam != nil {
		for _, m := range fam.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			counts[labels["method"]+" "+labels["code"]] += m.GetCounter().GetValue()
		}
	}
	return counts, nil
}

// freeAddress picks a loopback port for the child's metrics server.
func freeAddress() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr, nil
}
