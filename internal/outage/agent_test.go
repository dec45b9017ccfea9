package outage_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
)

// node is one node's files for the node-agent binary.
type node struct {
	name, dir, bootstrap string
}

func newNode(t *testing.T, kind, bootstrap string) node {
	return node{
		name:      fmt.Sprintf("outage-%s-%d", kind, time.Now().UnixNano()%1_000_000),
		dir:       t.TempDir(),
		bootstrap: bootstrap,
	}
}

func (n node) certDir() string    { return filepath.Join(n.dir, "pki") }
func (n node) kubeconfig() string { return filepath.Join(n.dir, "kubelet.kubeconfig") }

// logLine is one line of the agent's output and when the test read it.
type logLine struct {
	at   time.Time
	text string
}

// agent is a running node-agent process whose output is read line by line as it comes.
type agent struct {
	proc   *controlplane.Process
	mu     sync.Mutex
	lines  []logLine
	grew   chan struct{} // closed and replaced on every new line
	done   chan struct{} // closed once the process exited
	exited time.Time
	err    error
}

// start runs node-agent for n with extra flags.
func start(t *testing.T, n node, extra ...string) *agent {
	t.Helper()
	args := append([]string{"--bootstrap-kubeconfig", n.bootstrap, "--kubeconfig", n.kubeconfig(),
		"--cert-dir", n.certDir(), "--node-name", n.name, "--register-node=false", "--timeout", "3m"}, extra...)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	a := &agent{grew: make(chan struct{}), done: make(chan struct{})}
	if a.proc, err = controlplane.StartProcess(context.Background(), agentBin, args, w); err != nil {
		t.Fatal(err)
	}
	_ = w.Close() // the child holds its own copy; EOF comes when it exits
	go a.read(r)
	t.Cleanup(func() {
		a.stop()
		if t.Failed() {
			t.Logf("node-agent %s output:\n%s", n.name, a.output())
		}
	})
	return a
}

func (a *agent) read(r io.ReadCloser) {
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 64*1024), 1024*1024)
	for scanner.Scan() {
		a.mu.Lock()
		a.lines = append(a.lines, logLine{at: time.Now(), text: scanner.Text()})
		close(a.grew)
		a.grew = make(chan struct{})
		a.mu.Unlock()
	}
	_ = r.Close()
	<-a.proc.Done()
	a.mu.Lock()
	a.exited, a.err = time.Now(), a.proc.Err()
	a.mu.Unlock()
	close(a.done)
}

// stop interrupts the agent (as systemd would) and waits for it; SIGKILL after 10s.
func (a *agent) stop() {
	_ = a.proc.Stop()
	<-a.done
}

// running reports whether the process has not exited yet.
func (a *agent) running() bool {
	select {
	case <-a.done:
		return false
	default:
		return true
	}
}

// wait waits up to timeout for the process to exit and returns when it did and how.
func (a *agent) wait(timeout time.Duration) (time.Time, error) {
	select {
	case <-a.done:
	case <-time.After(timeout):
		if a.running() {
			return time.Time{}, fmt.Errorf("node-agent still running after %s", timeout)
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.exited, a.err
}

// waitFor returns the first line read at or after since that contains want, waiting up to
// timeout for it; it fails early when the process exits without printing it.
func (a *agent) waitFor(want string, since time.Time, timeout time.Duration) (logLine, error) {
	deadline := time.After(timeout)
	for {
		a.mu.Lock()
		for _, l := range a.lines {
			if !l.at.Before(since) && strings.Contains(l.text, want) {
				a.mu.Unlock()
				return l, nil
			}
		}
		grew := a.grew
		a.mu.Unlock()
		select {
		case <-grew:
		case <-a.done:
			// One more look: the last lines may have come with the exit.
			if l, ok := a.find(want, since); ok {
				return l, nil
			}
			return logLine{}, fmt.Errorf("node-agent exited (%v) without logging %q", a.err, want)
		case <-deadline:
			return logLine{}, fmt.Errorf("node-agent did not log %q within %s", want, timeout)
		}
	}
}

func (a *agent) find(want string, since time.Time) (logLine, bool) {
	for _, l := range a.between(since, time.Now().Add(time.Hour)) {
		if strings.Contains(l.text, want) {
			return l, true
		}
	}
	return logLine{}, false
}

// lastBefore is the last line before until that contains want.
func (a *agent) lastBefore(want string, until time.Time) (logLine, bool) {
	lines := a.between(time.Time{}, until)
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i].text, want) {
			return lines[i], true
		}
	}
	return logLine{}, false
}

// between returns the lines read in [from, to).
func (a *agent) between(from, to time.Time) []logLine {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []logLine
	for _, l := range a.lines {
		if !l.at.Before(from) && l.at.Before(to) {
			out = append(out, l)
		}
	}
	return out
}

// output is everything the agent printed, each line prefixed with when it was read.
func (a *agent) output() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var b strings.Builder
	for _, l := range a.lines {
		fmt.Fprintf(&b, "%s | %s\n", l.at.Format("15:04:05.000"), l.text)
	}
	return b.String()
}
