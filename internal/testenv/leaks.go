package testenv

import (
	"fmt"
	"os"

	"github.com/tlsbootstrap/tlsbootstrap/internal/queue"
	"go.uber.org/goleak"
)

// leakOptions ignore the goroutines a test binary keeps on purpose: klog's flush daemon
// and the idle connections of the HTTP clients the tests made (each ends with its
// transport, which tests do not close).
var leakOptions = []goleak.Option{
	goleak.IgnoreAnyFunction("k8s.io/klog/v2.(*flushDaemon).run.func1"),
	goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
	goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
	goleak.IgnoreAnyFunction("golang.org/x/net/http2.(*ClientConn).readLoop"),
	goleak.IgnoreAnyFunction("net/http.(*http2ClientConn).readLoop"),
	// client-go rotates the client certificate of a kubeconfig that names certificate
	// files (as a kubelet's does) for the life of the process, with a work queue and
	// pollers of its own. Our work queues are counted instead (queue.Live).
	goleak.IgnoreAnyFunction("k8s.io/client-go/transport.(*dynamicClientCert).run"),
	goleak.IgnoreAnyFunction("k8s.io/client-go/transport.(*dynamicClientCert).runWorker"),
	goleak.IgnoreAnyFunction("k8s.io/apimachinery/pkg/util/wait.PollImmediateUntil"),
	goleak.IgnoreTopFunction("k8s.io/apimachinery/pkg/util/wait.PollImmediateUntilWithContext.poller.func1.1"),
	goleak.IgnoreTopFunction("k8s.io/client-go/util/workqueue.(*delayingType[...]).waitingLoop"),
}

// checkLeaks reports goroutines still running after every test of the package passed,
// besides those running before (ignored) and the ones above: a controller, informer or
// worker a test started and did not stop. It returns the exit code.
func checkLeaks(code int, before goleak.Option) int {
	if code != 0 {
		return code
	}
	if err := goleak.Find(append(leakOptions, before)...); err != nil {
		fmt.Fprintf(os.Stderr, "testenv: goroutines left running after the tests (stop what a test starts, in t.Cleanup):\n%v\n", err)
		return 1
	}
	if n := queue.Live(); n != 0 {
		fmt.Fprintf(os.Stderr, "testenv: %d controller work queues left running after the tests (run what a test builds, or stop it, in t.Cleanup)\n", n)
		return 1
	}
	return 0
}
