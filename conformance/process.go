package conformance

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// nodeProcess is a node command running in the background for the length of a case.
type nodeProcess struct {
	argv []string
	cmd  *exec.Cmd
	out  lockedBuffer
	done chan struct{}
	err  error // set before done closes
}

// stopGrace is how long a stopped node command may take to exit before it is killed.
const stopGrace = 5 * time.Second

// start runs the node's command in the background and stops it at cleanup, before the
// node's CSRs are deleted (cleanups run last registered first).
func (n *testNode) start(t *caseT) *nodeProcess {
	p := &nodeProcess{argv: n.argv, done: make(chan struct{})}
	p.cmd = exec.Command(n.argv[0], n.argv[1:]...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	p.cmd.WaitDelay = stopGrace // a child holding the output pipe must not block Wait
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting the node command %q: %v", strings.Join(n.argv, " "), err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.cleanup(p.stop)
	return p
}

// exited reports whether the command has ended, with a message quoting its output: a
// rotating node must stay up.
func (p *nodeProcess) exited() (string, bool) {
	select {
	case <-p.done:
		status := "exit status 0"
		if p.err != nil {
			status = p.err.Error()
		}
		return fmt.Sprintf("the node command %q, which must keep running, ended (%s) with output:\n%s",
			strings.Join(p.argv, " "), status, tail(p.out.Bytes(), 2000)), true
	default:
		return "", false
	}
}

// stop interrupts the command, as a service manager would, and kills it after stopGrace.
func (p *nodeProcess) stop(ctx context.Context) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
		return nil
	case <-time.After(stopGrace):
	case <-ctx.Done():
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return nil
}

// lockedBuffer collects a process's output while cases read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Bytes returns a copy of what was written so far.
func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}
