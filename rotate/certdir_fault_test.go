package rotate_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"k8s.io/klog/v2/textlogger"

	"github.com/tlsbootstrap/tlsbootstrap/internal/faults"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/rotate"
)

// certDirFault breaks writes to a cert dir and repairs them.
type certDirFault struct {
	// how the fault is made, for the figure: "tmpfs remounted read-only", ...
	how string
	// cause is the error the failed writes must wrap (a syscall.Errno) and name.
	cause error
	// inject breaks writes to the cert dir; repair undoes it. Cleanup undoes it too.
	inject, repair func() error
}

// Fault kinds.
const (
	faultReadOnly = "read-only"
	faultFull     = "full"
)

// newFaultyCertDir makes a cert dir (not yet existing, in a folder that does) in which
// kind can be injected, or skips t when this system cannot. Set on Linux by
// certdir_fault_linux_test.go; nil elsewhere.
var newFaultyCertDir func(t *testing.T, kind string) (certDir string, fault certDirFault)

// TestCertDirFaults: the node's cert dir turns read-only, or its file system fills up,
// while the rotation manager renews the client certificate (at once, then after a short
// backoff). Every attempt fails before it makes a CSR (Store.CheckWritable), with an error
// naming the cert dir and the cause, and is logged; the Manager and the cert dir's current link keep the old, valid certificate; no
// temporary, partial or orphaned file is left in the cert dir; the node's kubeconfig still
// authenticates. Once the fault is repaired, the next retry renews and stores the
// certificate.
func TestCertDirFaults(t *testing.T) {
	testenv.Need(t)
	if newFaultyCertDir == nil {
		t.Skip("cert-dir faults are injected with Linux mounts and rlimits only")
	}
	var figures []string
	faults.Record(t, "cert-dir read-only and cert-dir full (rotation)", func() string { return strings.Join(figures, "; ") })
	backoff := rotate.Backoff{Initial: 300 * time.Millisecond, Factor: 2, Steps: 3} // 0.3s, 0.6s, 1.2s, 1.2s...
	const failedAttempts = 3

	for i, kind := range []string{faultReadOnly, faultFull} {
		t.Run(kind, func(t *testing.T) {
			t.Cleanup(func() {
				if t.Skipped() {
					figures = append(figures, kind+": skipped (see the test log)")
				}
			})
			nodeName := fmt.Sprintf("certdir-fault-%d", i)
			certDir, fault := newFaultyCertDir(t, kind)
			grantRenewal(t, nodeName)
			kubeconfigPath := bootstrapNodeIn(t, nodeName, certDir)
			store, first, server := openNode(t, certDir, kubeconfigPath)
			before := dirState(t, certDir)
			_, bootstrapConfig := bootstrapToken(t)

			if err := fault.inject(); err != nil {
				t.Fatalf("injecting the fault (%s): %v", fault.how, err)
			}
			var logs testenv.SyncBuffer
			rotated := make(chan *x509.Certificate, 4)
			m, _ := runManager(t, textlogger.NewLogger(textlogger.NewConfig(textlogger.Output(&logs))), rotate.ManagerOptions{
				Store: store, NodeName: nodeName, Server: server, Bootstrap: bootstrapConfig,
				Backoff: backoff, Deadline: renewFirstAtOnce(first.Leaf),
				OnRotated: func(_, new *x509.Certificate) { rotated <- new },
			})

			// Let a few attempts fail.
			const failedMsg = "certificate renewal failed"
			deadline := time.Now().Add(60 * time.Second)
			for strings.Count(logs.String(), failedMsg) < failedAttempts {
				select {
				case c := <-rotated:
					t.Fatalf("renewed (serial %s) although the cert dir is %s", c.SerialNumber, kind)
				case <-time.After(100 * time.Millisecond):
				}
				if time.Now().After(deadline) {
					t.Fatalf("fewer than %d failed attempts within 60s; status %+v\n%s", failedAttempts, m.Status(), logs.String())
				}
			}

			st := m.Status()
			t.Logf("last error: %v", st.LastError)
			if st.LastError == nil || !errors.Is(st.LastError, fault.cause) {
				t.Errorf("last error %v, want one wrapping %q", st.LastError, fault.cause)
			} else {
				msg := st.LastError.Error()
				for _, want := range []string{certDir, "not requesting a certificate", fault.cause.Error()} {
					if !strings.Contains(msg, want) {
						t.Errorf("last error %q does not name %q", msg, want)
					}
				}
			}
			for _, line := range strings.Split(logs.String(), "\n") {
				if strings.Contains(line, failedMsg) && (!strings.Contains(line, certDir) || !strings.Contains(line, fault.cause.Error())) {
					t.Errorf("logged failure does not name the cert dir and %q: %s", fault.cause, line)
				}
			}
			if st.Rotations != 0 {
				t.Errorf("%d rotations counted during the fault", st.Rotations)
			}
			if n := nodeCSRs(t, nodeName); n != 0 {
				t.Errorf("%d CSRs made with the node's identity during the fault: certificates issued only to be thrown away", n)
			}
			if cur := m.Current(); cur == nil || !cur.Leaf.Equal(first.Leaf) {
				t.Error("Manager.Current() is not the bootstrap certificate during the fault")
			}
			if onDisk, err := store.Current(); err != nil || !onDisk.Leaf.Equal(first.Leaf) {
				t.Errorf("the current link does not hold the bootstrap certificate during the fault: %v", err)
			}
			if during := dirState(t, certDir); !slices.Equal(during, before) {
				t.Errorf("cert dir changed during the fault:\nbefore %q\nduring %q", before, during)
			}
			if u := testenv.WhoAmI(t, kubeconfigPath); u.Username != "system:node:"+nodeName {
				t.Errorf("during the fault, the node kubeconfig authenticates as %q", u.Username)
			}
			failures := strings.Count(logs.String(), failedMsg)

			if err := fault.repair(); err != nil {
				t.Fatalf("repairing the fault: %v", err)
			}
			repaired := time.Now()
			var renewed *x509.Certificate
			select {
			case renewed = <-rotated:
			case <-time.After(60 * time.Second):
				t.Fatalf("no renewal within 60s of repairing the fault; status %+v", m.Status())
			}
			took := time.Since(repaired)
			if max := rotate.BackoffDelay(backoff, backoff.Steps) + 10*time.Second; took > max {
				t.Errorf("renewed %s after the repair, want within the longest backoff plus a CSR round trip (%s)", took, max)
			}
			st = m.Status()
			if st.LastError != nil || st.Rotations != 1 {
				t.Errorf("after the repair: status %+v, want 1 rotation and no error", st)
			}
			if renewed.Equal(first.Leaf) {
				t.Fatal("the renewal returned the bootstrap certificate")
			}
			if cur := m.Current(); cur == nil || !cur.Leaf.Equal(renewed) {
				t.Error("Manager.Current() is not the renewed certificate")
			}
			onDisk, err := store.Current()
			if err != nil || !onDisk.Leaf.Equal(renewed) {
				t.Fatalf("the current link does not hold the renewed certificate: %v", err)
			}
			target, err := os.Readlink(store.CurrentPath())
			if err != nil {
				t.Fatal(err)
			}
			info, err := os.Stat(filepath.Join(certDir, target))
			if err != nil {
				t.Fatal(err)
			}
			// The bootstrap pair (kept), the new pair, the link moved to it: nothing else.
			current := filepath.Base(store.CurrentPath())
			want := []string{fmt.Sprintf("%s (%d bytes)", target, info.Size())}
			for _, e := range before {
				if strings.HasPrefix(e, current+" -> ") {
					e = current + " -> " + target
				}
				want = append(want, e)
			}
			slices.Sort(want)
			if after := dirState(t, certDir); !slices.Equal(after, want) {
				t.Errorf("cert dir after the renewal:\n%q\nwant\n%q", after, want)
			}
			if u := testenv.WhoAmI(t, kubeconfigPath); u.Username != "system:node:"+nodeName {
				t.Errorf("after the renewal, the node kubeconfig authenticates as %q", u.Username)
			}
			figures = append(figures, fmt.Sprintf("%s (%s): %d failed attempts naming the cert dir and %q, 0 CSRs made, old certificate kept, no stray files, renewed %s after the repair",
				kind, fault.how, failures, fault.cause, took.Round(100*time.Millisecond)))
		})
	}
}

// dirState lists dir's entries, sorted: "name" for files, "name -> target" for links, with
// the size of files, so a partial rewrite shows too.
func dirState(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		info, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case info.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, e.Name()+" -> "+target)
		default:
			out = append(out, fmt.Sprintf("%s (%d bytes)", e.Name(), info.Size()))
		}
	}
	slices.Sort(out)
	return out
}

// nodeCSRs counts the CSRs requested with the node's own identity (renewals).
func nodeCSRs(t *testing.T, nodeName string) int {
	t.Helper()
	list, err := cp.Client().CertificatesV1().CertificateSigningRequests().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range list.Items {
		if c.Spec.Username == "system:node:"+nodeName {
			n++
		}
	}
	return n
}
