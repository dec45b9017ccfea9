package testenv

import (
	"fmt"
	"os"

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
	return 0
}
