package outage_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// renewAfter is when the running agent renews (--renew-after): long enough for it to
// start with the component up, short enough to fall inside the outage, which begins
// as soon as the agent says it is rotating.
const renewAfter = 3 * time.Second

// maxBackoff is the rotation manager's default backoff's longest wait (32s) with its 10% jitter.
const maxBackoff = 35200 * time.Millisecond

// maxWatchBackoff bounds how long a running controller takes to issue a new CSR after the
// API server returns: its informers retry a lost watch at least every 2s (client-go's own
// reflector backoff would wait up to 60s), plus a few seconds to approve and sign.
const maxWatchBackoff = 10 * time.Second

// TestRotationThroughOutage: a bootstrapped node agent is running and renews its client
// certificate while the component is away. The controller runs throughout (it must
// recover too). The agent must keep its old certificate while it cannot renew, retry
// with a bounded backoff, log why, and renew soon after the component returns.
func TestRotationThroughOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the node-agent binary through control-plane outages")
	}
	if !all() {
		t.Skip("OUTAGE_ALL=1 runs it (make reliability)")
	}
	for _, f := range outages() {
		t.Run(f.component, func(t *testing.T) { rotationThrough(t, f) })
	}
}

func rotationThrough(t *testing.T, f fault) {
	r := &report{name: f.String() + " mid-rotation", component: f.component}
	defer r.write(t)
	runController(t)
	n := newNode(t, "rot", bootstrapKubeconfig(t))
	if _, err := start(t, n, "--once").wait(time.Minute); err != nil {
		t.Fatalf("first bootstrap: %v", err)
	}
	old, err := current(n)
	if err != nil {
		t.Fatal(err)
	}

	a := start(t, n, "--renew-after", renewAfter.String())
	began := time.Now()
	if _, err := a.waitFor("rotating certificate", began, time.Minute); err != nil {
		t.Fatal(err)
	}
	down, back := f.outage(t, func() {
		// The old certificate is still the one in use and on disk.
		if leaf, err := current(n); err != nil {
			t.Errorf("during the outage: %v", err)
		} else if !leaf.Equal(old) {
			t.Errorf("the certificate changed during the outage (serial %s, was %s)", leaf.SerialNumber, old.SerialNumber)
		}
		if !a.running() {
			_, err := a.wait(0)
			t.Errorf("the agent exited during the outage: %v", err)
		}
	})
	if l, ok := a.find("rotated certificate", began); ok && l.at.Before(back) {
		t.Fatalf("the renewal completed before the %s came back, the outage missed it: %s", f.component, l.text)
	}
	rotated, err := a.waitFor("rotated certificate", back, maxAfterReturn+maxWatchBackoff+10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	r.finished = rotated.at.Sub(back)
	t.Logf("renewed %s after the %s returned", r.finished.Round(time.Millisecond), f.component)
	// Two waits add up after an outage: the agent's next attempt (its backoff) and the
	// controller noticing the new CSR (its informer's watch re-established with
	// client-go's backoff). Each is bounded on its own.
	attempt, ok := a.lastBefore("renewing certificate", rotated.at)
	if !ok {
		t.Fatalf("no renewal attempt logged before the rotation: %s", rotated.text)
	}
	if d := attempt.at.Sub(back); d > maxAfterReturn {
		t.Errorf("the agent's successful attempt came %s after the %s returned, want at most %s", d, f.component, maxAfterReturn)
	}
	// An attempt made before the outage (its CSR created, then the component went away)
	// can only be issued once the component is back.
	from, since := attempt.at, "the attempt"
	if from.Before(back) {
		from, since = back, "the "+f.component+" returned"
	}
	if d := rotated.at.Sub(from); d > maxWatchBackoff {
		t.Errorf("the CSR was issued %s after %s, want at most %s", d, since, maxWatchBackoff)
	}
	r.details = append(r.details, fmt.Sprintf("last attempt %+.1fs from the return, issued %.1fs after %s", attempt.at.Sub(back).Seconds(), rotated.at.Sub(from).Seconds(), since))
	if got := klogValue(rotated.text, "oldSerial"); got != old.SerialNumber.String() {
		t.Errorf("rotated from serial %s, want the old certificate's %s", got, old.SerialNumber)
	}

	// What the agent said while it could not renew: each failed attempt names the
	// renewal, its error and when it retries; the retries are bounded.
	var waits []string
	for _, l := range a.between(began, rotated.at) {
		if !strings.Contains(l.text, "certificate renewal failed; keeping the current certificate") {
			continue
		}
		in := klogValue(l.text, "retryIn")
		d, err := time.ParseDuration(in)
		if err != nil {
			t.Errorf("failed renewal line without a retry delay: %s", l.text)
			continue
		}
		if d > maxBackoff {
			t.Errorf("retry in %s exceeds the backoff cap %s: %s", d, maxBackoff, l.text)
		}
		waits = append(waits, d.Round(100*time.Millisecond).String())
	}
	quiet := a.between(down, back)
	if len(waits) == 0 {
		r.details = append(r.details, "no failed attempt")
	} else {
		r.details = append(r.details, fmt.Sprintf("%d failed attempts, retries after %s", len(waits), strings.Join(waits, ", ")))
	}
	if len(waits) == 0 && f.component == "API server" {
		t.Errorf("no failed renewal was logged while the API server was down (%d lines then)", len(quiet))
	}

	leaf := checkNode(t, n)
	if leaf.Equal(old) {
		t.Errorf("the node still uses the old certificate %s after the renewal", old.SerialNumber)
	}
	t.Logf("agent's log around the outage:\n%s", a.output())
}
