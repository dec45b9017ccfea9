package ctrlkill_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/tlsbootstrap/tlsbootstrap/internal/faults"
)

// stormTimeout bounds the wait for a storm of n CSRs to be issued.
func stormTimeout(n int) time.Duration { return 60*time.Second + time.Duration(n)*100*time.Millisecond }

// storm is a running storm: its requests being created and the tracker counting them.
type storm struct {
	prefix     string
	reqs       []*request
	legit, bad int
	tr         *tracker
	created    chan []error
	cancel     context.CancelFunc
}

// startStorm builds n legitimate CSRs (plus bad ones) named <prefix>-..., starts watching
// them and starts creating them with 16 concurrent clients.
func startStorm(t *testing.T, prefix string, n int) *storm {
	t.Helper()
	grant(t)
	s := &storm{prefix: prefix, reqs: newStorm(t, prefix, n), created: make(chan []error, 1)}
	s.legit, s.bad = countLegit(s.reqs)
	s.tr = startTracker(t, cp.Client(), prefix)
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	t.Cleanup(cancel)
	go func() { s.created <- create(ctx, s.reqs, 16) }()
	return s
}

// waitCreated fails the test when a create was refused.
func (s *storm) waitCreated(t *testing.T) {
	t.Helper()
	for _, err := range <-s.created {
		t.Errorf("storm: %v", err)
	}
	if t.Failed() {
		t.FailNow()
	}
}

// killAtThird waits until r has signed a third of the legitimate CSRs, by its own log
// (the watch lags behind under load, and a kill timed by it can land after the storm),
// then SIGKILLs r. It returns how many the watch had shown issued, and approved but not
// issued, when the kill was sent, and when that was.
func (s *storm) killAtThird(t *testing.T, r *replica) (issued, inFlight int, at time.Time) {
	t.Helper()
	deadline := time.Now().Add(stormTimeout(s.legit))
	for signedBy(r.out, s.prefix) < s.legit/3 {
		if r.exited() {
			t.Fatalf("%s exited on its own before the kill: %v\n%s", r.name, r.proc.Err(), tail(r.out.String(), 20))
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s signed only %d of %d CSRs before the kill was due (watch: %d issued, %v):\n%s",
				r.name, signedBy(r.out, s.prefix), s.legit, s.tr.issuedCount(), s.tr.err(), tail(r.out.String(), 20))
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.proc.Kill()
	return s.tr.issuedCount(), s.tr.approvedPending(), time.Now()
}

// waitAllIssued waits for every legitimate CSR to be issued and returns how long it took
// from since; it is an error when they are not issued within the storm's timeout.
func (s *storm) waitAllIssued(t *testing.T, since time.Time, running ...*replica) time.Duration {
	t.Helper()
	s.waitCreated(t)
	if !s.tr.waitIssued(s.legit, stormTimeout(s.legit)) {
		t.Errorf("only %d of %d legitimate CSRs issued within %s (watch: %v)", s.tr.issuedCount(), s.legit, stormTimeout(s.legit), s.tr.err())
		for _, r := range running {
			t.Logf("%s (exited: %v):\n%s", r.name, r.exited(), tail(r.out.String(), 20))
		}
	}
	took := time.Since(since)
	// Bad CSRs are created among the good ones; give the controller a moment more with them.
	time.Sleep(time.Second)
	return took
}

// TestControllerKilledMidStorm SIGKILLs the only controller once a third of a storm of
// CTRLKILL_CSRS kubelet client CSRs is issued, restarts it at once, and requires every
// legitimate CSR issued exactly once and no bad one approved.
func TestControllerKilledMidStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the csr-controller binary")
	}
	n := stormSize(t)
	first := startReplica(t, "controller", controllerArgs())
	first.waitLog(t, 30*time.Second, "controllers running")

	s := startStorm(t, "ck1", n)
	issuedAtKill, inFlight, _ := s.killAtThird(t, first)
	second := startReplica(t, "restarted controller", controllerArgs())
	restarted := time.Now()
	took := s.waitAllIssued(t, restarted, second)
	if second.exited() {
		t.Errorf("restarted controller exited: %v\n%s", second.proc.Err(), tail(second.out.String(), 20))
	}

	o := verify(t, s.reqs, s.tr, first.out, second.out)
	// The watch lags behind the controller: the killed process's own log says how many it
	// signed, and the restarted one must have signed the rest.
	byKilled, byRestarted := signedBy(first.out, "ck1"), signedBy(second.out, "ck1")
	if issuedAtKill >= s.legit || byRestarted == 0 {
		t.Errorf("the restarted controller signed %d CSRs (the killed one %d): the kill proves nothing", byRestarted, byKilled)
	}
	faults.Report(t, fmt.Sprintf("controller SIGKILLed mid-storm (%d CSRs + %d bad)", n, s.bad), fmt.Sprintf("%s; killed when the watch showed %d issued and %d approved in flight; signed by the killed process %d, by the restarted one %d; restart→all issued %s",
		o, issuedAtKill, inFlight, byKilled, byRestarted, took.Round(100*time.Millisecond)))
}

// TestLeaderKilledMidStorm runs two replicas with leader election on a short Lease,
// SIGKILLs the leader once a third of the storm is issued, and requires the other replica
// to take over and issue every legitimate CSR exactly once, and no bad one approved.
func TestLeaderKilledMidStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the csr-controller binary")
	}
	n := stormSize(t)
	lease := "ctrlkill-" + rand.String(6)
	args := controllerArgs("--leader-elect", "--leader-elect-resource-name", lease,
		"--leader-elect-lease-duration", "4s", "--leader-elect-renew-deadline", "3s", "--leader-elect-retry-period", "1s")
	a := startReplica(t, "replica a", args)
	b := startReplica(t, "replica b", args)
	holder := waitLeaseHolder(t, lease, "")
	leader, follower := whichLeads(t, holder, a, b)
	leader.waitLog(t, 30*time.Second, "controllers running")
	follower.waitLog(t, 30*time.Second, "following leader", holder)

	s := startStorm(t, "ck2", n)
	if now := leaseHolder(t, lease); now != holder {
		t.Fatalf("the Lease moved from %s to %s before the kill", holder, now)
	}
	issuedAtKill, inFlight, killed := s.killAtThird(t, leader)
	newHolder := waitLeaseHolder(t, lease, holder)
	tookOver := time.Since(killed)
	follower.waitLog(t, 10*time.Second, "became leader", newHolder)
	took := s.waitAllIssued(t, killed, follower)
	if follower.exited() {
		t.Errorf("%s exited after taking over: %v\n%s", follower.name, follower.proc.Err(), tail(follower.out.String(), 20))
	}

	o := verify(t, s.reqs, s.tr, a.out, b.out)
	byKilled, bySuccessor := signedBy(leader.out, "ck2"), signedBy(follower.out, "ck2")
	if issuedAtKill >= s.legit || bySuccessor == 0 {
		t.Errorf("the new leader signed %d CSRs (the killed one %d): the kill proves nothing", bySuccessor, byKilled)
	}
	faults.Report(t, fmt.Sprintf("leader SIGKILLed mid-storm, 2 replicas, lease 4s (%d CSRs + %d bad)", n, s.bad), fmt.Sprintf("%s; killed when the watch showed %d issued and %d approved in flight; signed by the killed leader %d, by the new one %d; Lease taken over %s after the kill, kill→all issued %s",
		o, issuedAtKill, inFlight, byKilled, bySuccessor, tookOver.Round(100*time.Millisecond), took.Round(100*time.Millisecond)))
}
