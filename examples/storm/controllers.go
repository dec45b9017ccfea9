package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
)

// runningController is the controller under test, a child process either way.
type runningController struct {
	proc *controlplane.Process
	// metricsURL serves the tlsbootstrap child's request counts; "" for kcm (n/a).
	metricsURL string
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
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding this program to run the controller: %w", err)
	}
	addr, err := freeAddress()
	if err != nil {
		return nil, err
	}
	args := []string{childCommand, "--kubeconfig=" + c.kubeconfigFile, "--ca-cert=" + c.caCert, "--ca-key=" + c.caKey, "--metrics-bind-address=" + addr,
		fmt.Sprintf("--kube-api-qps=%g", f.ctrlQPS), fmt.Sprintf("--kube-api-burst=%d", f.ctrlBurst), fmt.Sprintf("--workers=%d", f.ctrlWorkers)}
	if f.memprofile != "" {
		args = append(args, "--memprofile="+f.memprofile)
	}
	if f.cpuprofile != "" {
		args = append(args, "--cpuprofile="+f.cpuprofile)
	}
	proc, err := controlplane.StartProcess(ctx, self, args, controllerOutput(f))
	if err != nil {
		return nil, err
	}
	rc := &runningController{proc: proc, metricsURL: "http://" + addr}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(rc.metricsURL + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return rc, nil
			}
		}
		select {
		case <-proc.Done():
			return nil, fmt.Errorf("the tlsbootstrap controller exited before it was ready: %v", proc.Err())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			proc.Kill()
			return nil, fmt.Errorf("the tlsbootstrap controller was not ready after 60s (last error: %v)", err)
		}
	}
}

// startKCM runs the real kube-controller-manager with the CSR controllers.
func startKCM(ctx context.Context, f *flags, c *cluster, extra []string) (*runningController, error) {
	proc, err := c.cp.StartControllerManager(ctx, controlplane.ControllerManagerOptions{
		Controllers: []string{"csrapproving", "csrsigning"},
		ExtraArgs:   extra,
		Output:      controllerOutput(f),
	})
	if err != nil {
		return nil, err
	}
	return &runningController{proc: proc}, nil
}

func (rc *runningController) stop() { _ = rc.proc.Stop() }

// sample reads the process's CPU time and peak RSS.
func (rc *runningController) sample() (procSample, error) { return readProc(rc.proc.PID()) }

// requests reads the tlsbootstrap controller's request counts by verb and resource
// (nil for kcm, whose client this program cannot count).
func (rc *runningController) requests(ctx context.Context) (map[string]float64, error) {
	if rc.metricsURL == "" {
		return nil, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rc.metricsURL+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading the controller's request counts: %w", err)
	}
	defer resp.Body.Close()
	counts := map[string]float64{}
	prefix := requestsMetric + `{request="`
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), prefix)
		if !ok {
			continue
		}
		label, value, ok := strings.Cut(rest, `"} `)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("request count %q: %w", sc.Text(), err)
		}
		counts[label] = v
	}
	return counts, sc.Err()
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
