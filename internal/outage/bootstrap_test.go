package outage_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	certutil "k8s.io/client-go/util/cert"
)

// TestBootstrapThroughOutage: the node agent has submitted its CSR and waits for it when
// the component goes away. The controller is started only when the component is back, so
// that the whole outage falls inside the agent's wait (with the controller running, the
// CSR would be issued within milliseconds, before any outage could begin). The agent must
// neither give up nor make a second CSR, and must finish soon after.
func TestBootstrapThroughOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the node-agent binary through control-plane outages")
	}
	for _, f := range outages() {
		t.Run(f.component, func(t *testing.T) {
			if !f.quick && !all() {
				t.Skip("OUTAGE_ALL=1 runs it (make reliability)")
			}
			bootstrapThrough(t, f)
		})
	}
}

func bootstrapThrough(t *testing.T, f fault) {
	r := &report{name: f.String() + " mid-bootstrap", component: f.component}
	defer r.write(t)
	ctx := context.Background()
	n := newNode(t, "boot", bootstrapKubeconfig(t))
	a := start(t, n, "--once")

	// The agent names its CSR before submitting it; wait until the CSR exists.
	requested, err := a.waitFor("requesting client certificate", time.Time{}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	csrName := klogValue(requested.text, "csr")
	if csrName == "" {
		t.Fatalf("the agent's request line names no CSR: %s", requested.text)
	}
	csrs := cp.Client().CertificatesV1().CertificateSigningRequests()
	deadline := time.Now().Add(30 * time.Second)
	for {
		obj, err := csrs.Get(ctx, csrName, metav1.GetOptions{})
		if err == nil {
			if len(obj.Status.Certificate) > 0 {
				t.Fatalf("CSR %s was issued before the outage: no controller should be running", csrName)
			}
			break
		}
		if !apierrors.IsNotFound(err) || time.Now().After(deadline) {
			t.Fatalf("waiting for the agent's CSR %s: %v", csrName, err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	down, back := f.outage(t, func() {
		if !a.running() {
			_, err := a.wait(0)
			t.Errorf("the agent gave up during the outage: %v", err)
		}
	})
	quiet := a.between(down, back)
	runController(t)
	exited, err := a.wait(2 * time.Minute)
	if err != nil {
		t.Fatalf("node-agent after the outage: %v", err)
	}
	r.finished = exited.Sub(back)
	t.Logf("agent finished %s after the %s returned", r.finished.Round(time.Millisecond), f.component)
	r.details = append(r.details, fmt.Sprintf("%d agent log lines while it was down", len(quiet)))
	if r.finished > maxAfterReturn {
		t.Errorf("agent finished %s after the %s returned, want at most %s", r.finished, f.component, maxAfterReturn)
	}

	leaf := checkNode(t, n)
	// The certificate in use is the one issued to the CSR that waited through the outage:
	// the agent resumed its wait instead of starting over.
	obj, err := csrs.Get(ctx, csrName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	issued, err := certutil.ParseCertsPEM(obj.Status.Certificate)
	if err != nil || len(issued) == 0 {
		t.Fatalf("CSR %s holds no certificate after the agent finished: %v", csrName, err)
	}
	if !issued[0].Equal(leaf) {
		t.Errorf("the node uses certificate %s, not the one issued to CSR %s (%s)", leaf.SerialNumber, csrName, issued[0].SerialNumber)
	}

	// The log names what the agent waited for: the CSR before the outage, and the same CSR
	// once bootstrapped.
	done, err := a.waitFor("bootstrapped client certificate", back, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := klogValue(done.text, "csr"); got != csrName {
		t.Errorf("agent's success line names CSR %q, want %q: %s", got, csrName, done.text)
	}
	t.Logf("agent's log around the outage:\n%s", a.output())
}

// TestAgentStartedDuringOutage: the node agent starts while the API server is stopped,
// before it has made any request. It must wait (saying so), and once the API server is
// back, bootstrap, even if the restarted server rejects its token for a moment.
func TestAgentStartedDuringOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the node-agent binary through control-plane outages")
	}
	if !all() {
		t.Skip("OUTAGE_ALL=1 runs it (make reliability)")
	}
	f := outages()[0] // the API server
	r := &report{name: f.String() + " as the node agent starts", component: f.component}
	defer r.write(t)
	runController(t)
	n := newNode(t, "early", bootstrapKubeconfig(t))
	var a *agent
	_, back := f.outage(t, func() {
		// Started late enough that its API server wait (1m) outlasts the rest of the outage.
		if a != nil && !a.running() {
			_, err := a.wait(0)
			t.Errorf("the agent gave up during the outage: %v", err)
		}
	}, func() { a = start(t, n, "--once") })
	exited, err := a.wait(2 * time.Minute)
	if err != nil {
		t.Fatalf("node-agent after the outage: %v\n%s", err, a.output())
	}
	r.finished = exited.Sub(back)
	if r.finished > maxAfterReturn {
		t.Errorf("agent finished %s after the %s returned, want at most %s", r.finished, f.component, maxAfterReturn)
	}
	checkNode(t, n)
	waiting, ok := a.find("Waiting for the API server", time.Time{})
	if !ok || !strings.Contains(waiting.text, "connection refused") {
		t.Errorf("the agent did not say what it waited for (want a line naming the refused connection):\n%s", a.output())
	}
	if _, ok := a.find("rejected the bootstrap token; retrying", time.Time{}); ok {
		r.details = append(r.details, "the restarted API server rejected the token for a moment; retried")
	}
	t.Logf("agent's log:\n%s", a.output())
}
