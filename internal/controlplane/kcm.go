package controlplane

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ControllerManagerOptions configure a real kube-controller-manager run against the
// control plane, used to compare the project's controllers with Kubernetes' own.
type ControllerManagerOptions struct {
	// Controllers to enable. Default: csrapproving, csrsigning.
	Controllers []string
	// SigningDuration is --cluster-signing-duration. Default: the binary's (8760h).
	SigningDuration time.Duration
	// CertFile and KeyFile are the signing CA. Default: the control plane's cluster CA.
	CertFile, KeyFile string
	// ExtraArgs are appended as they are (e.g. "--kube-api-qps=500").
	ExtraArgs []string
	// Output receives the process's logs. Default: discarded.
	Output io.Writer
}

// Process is a child process started by the control plane helpers.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	once sync.Once
}

// ControllerManagerArgs returns the flags StartControllerManager passes.
func (cp *ControlPlane) ControllerManagerArgs(opts ControllerManagerOptions) []string {
	controllers := opts.Controllers
	if len(controllers) == 0 {
		controllers = []string{"csrapproving", "csrsigning"}
	}
	certFile, keyFile := opts.CertFile, opts.KeyFile
	if certFile == "" {
		certFile, keyFile = cp.CACertFile, cp.CAKeyFile
	}
	args := []string{
		"--kubeconfig=" + cp.KubeconfigFile,
		"--controllers=" + strings.Join(controllers, ","),
		"--cluster-signing-cert-file=" + certFile,
		"--cluster-signing-key-file=" + keyFile,
		"--leader-elect=false",
		"--secure-port=0",
	}
	if opts.SigningDuration > 0 {
		args = append(args, "--cluster-signing-duration="+opts.SigningDuration.String())
	}
	return append(args, opts.ExtraArgs...)
}

// StartControllerManager starts kube-controller-manager v1.37.2 against this control plane.
// Stop it with Process.Stop; it is also killed when ctx ends.
func (cp *ControlPlane) StartControllerManager(ctx context.Context, opts ControllerManagerOptions) (*Process, error) {
	bin, err := BinaryPath("kube-controller-manager")
	if err != nil {
		return nil, err
	}
	return StartProcess(ctx, bin, cp.ControllerManagerArgs(opts), opts.Output)
}

// StartProcess starts bin with args, its output to out (discarded when nil).
func StartProcess(ctx context.Context, bin string, args []string, out io.Writer) (*Process, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	// If this process dies without stopping it (a killed test binary), the child goes too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	p := &Process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Stop sends SIGTERM, waits up to 10s, then kills. It returns nil for a process that
// ended because it was stopped.
func (p *Process) Stop() error {
	p.once.Do(func() {
		select {
		case <-p.done:
			return
		default:
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return nil
}

// Kill ends the process at once with SIGKILL.
func (p *Process) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Err is the process's exit error once Done is closed.
func (p *Process) Err() error { return p.err }

// PID is the process id, for reading its CPU time and memory from /proc.
func (p *Process) PID() int { return p.cmd.Process.Pid }
