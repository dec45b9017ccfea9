package ctrlkill_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
)

// replica is one csr-controller process and everything it logged.
type replica struct {
	name string
	proc *controlplane.Process
	out  *testenv.SyncBuffer
}

// controllerArgs runs the approving and signing controllers as the cluster admin with the
// cluster CA, fast enough for a storm, writing every Event (no Event budget: the Signed
// Events are counted).
func controllerArgs(extra ...string) []string {
	return append([]string{
		"--kubeconfig", cp.KubeconfigFile,
		"--cluster-signing-cert-file", cp.CACertFile,
		"--cluster-signing-key-file", cp.CAKeyFile,
		"--kube-api-qps", "500", "--kube-api-burst", "1000",
		"--controllers", "csrapproving,csrsigning",
		"--event-qps=0",
	}, extra...)
}

// startReplica starts the controller binary; it is stopped when the test ends.
func startReplica(t *testing.T, name string, args []string) *replica {
	t.Helper()
	out := &testenv.SyncBuffer{}
	proc, err := controlplane.StartProcess(context.Background(), controllerBin, args, out)
	if err != nil {
		t.Fatal(err)
	}
	r := &replica{name: name, proc: proc, out: out}
	t.Cleanup(func() { _ = proc.Stop() })
	return r
}

// exited reports whether the process ended (on its own or killed).
func (r *replica) exited() bool {
	select {
	case <-r.proc.Done():
		return true
	default:
		return false
	}
}

// waitLog waits until the replica logged a line containing every one of parts, and fails
// the test when it exits or timeout passes first.
func (r *replica) waitLog(t *testing.T, timeout time.Duration, parts ...string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !r.logged(parts...) {
		if r.exited() {
			t.Fatalf("%s exited (%v) before logging %q:\n%s", r.name, r.proc.Err(), parts, tail(r.out.String(), 20))
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not log %q within %s:\n%s", r.name, parts, timeout, tail(r.out.String(), 20))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// logged reports whether one line of the output contains every one of parts.
func (r *replica) logged(parts ...string) bool {
	for line := range strings.SplitSeq(r.out.String(), "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

// signedLine matches the csrsigning controller's log line for a certificate written.
var signedLine = regexp.MustCompile(`"Signed CSR".*\bcsr="([^"]+)"`)

// signedLogLines counts "Signed CSR" log lines per CSR name in outputs.
func signedLogLines(outputs ...*testenv.SyncBuffer) map[string]int {
	counts := map[string]int{}
	for _, out := range outputs {
		for line := range strings.SplitSeq(out.String(), "\n") {
			if m := signedLine.FindStringSubmatch(line); m != nil {
				counts[m[1]]++
			}
		}
	}
	return counts
}

// signedBy counts the "Signed CSR" log lines of one process whose CSR name starts with
// prefix (a storm's CSRs).
func signedBy(out *testenv.SyncBuffer, prefix string) int {
	n := 0
	for name, c := range signedLogLines(out) {
		if strings.HasPrefix(name, prefix) {
			n += c
		}
	}
	return n
}

// tail is the last n lines of a controller's output.
func tail(s string, n int) string { return strings.Join(testenv.LastLines(s, n), "\n") }

// must fails the test with what was being done.
func must(t *testing.T, err error, doing string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(doing, args...), err)
	}
}
