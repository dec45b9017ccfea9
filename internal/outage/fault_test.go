package outage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
)

// fault is one control-plane component going away and coming back.
type fault struct {
	// component names what goes away, as in the summary ("API server", "etcd").
	component string
	// down is how long the component stays stopped.
	down        time.Duration
	stop, start func() error
	// quick faults run in `make test`; the others only with OUTAGE_ALL=1.
	quick bool
}

func outages() []fault {
	return []fault{
		{component: "API server", down: 20 * time.Second, stop: cp.StopAPIServer, start: cp.StartAPIServer, quick: true},
		{component: "etcd", down: 5 * time.Second, stop: cp.StopEtcd, start: cp.StartEtcd},
	}
}

func (f fault) String() string {
	if f.component == "etcd" {
		return fmt.Sprintf("etcd restarted (down %s, same data)", f.down)
	}
	return fmt.Sprintf("%s stopped %s", f.component, f.down)
}

// outage stops the component, calls atStart, keeps it down for f.down, calls atEnd (the
// component still down), and starts it again. It returns when the component was down (its stop returned)
// and when it was back (its start returned). The component is started again even when
// atEnd fails the test, so that the next scenario finds the control plane whole.
func (f fault) outage(t *testing.T, atEnd func(), atStart ...func()) (down, back time.Time) {
	t.Helper()
	begin := time.Now()
	if err := f.stop(); err != nil {
		t.Fatalf("stopping the %s: %v", f.component, err)
	}
	down = time.Now()
	t.Logf("%s stopped in %s", f.component, down.Sub(begin).Round(time.Millisecond))
	started := false
	defer func() {
		if !started {
			if err := f.start(); err != nil {
				t.Errorf("starting the %s again: %v", f.component, err)
			}
		}
	}()
	for _, fn := range atStart {
		fn()
	}
	time.Sleep(f.down)
	atEnd()
	restart := time.Now()
	started = true
	if err := f.start(); err != nil {
		t.Fatalf("starting the %s again: %v", f.component, err)
	}
	back = time.Now()
	t.Logf("%s started again in %s", f.component, back.Sub(restart).Round(time.Millisecond))
	return down, back
}

// runController runs the project's approving and signing controllers in-process with
// the cluster CA until the test ends (or the returned stop is called).
func runController(t *testing.T) (stop func()) {
	t.Helper()
	client, err := kubernetes.NewForConfig(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- controller.Run(ctx, client, controller.Options{
			Controllers:      []string{controller.CSRApproving, controller.CSRSigning},
			ClusterSigningCA: cp.CA.Signing(),
		})
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil && ctx.Err() == nil {
			t.Errorf("controller: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}
