package testenv

import (
	"flag"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
)

// lazy is the package's control plane of a test binary: started before the tests by
// Main, or by the first Need under MainLazy.
var lazy struct {
	once     sync.Once
	opts     controlplane.Options
	cp       **controlplane.ControlPlane
	setups   []Setup
	plane    *controlplane.ControlPlane
	cleanups []func()
	err      error
}

// MainLazy is Main for a package whose API-server tests call Need: the control plane
// starts at the first Need, so the package's pure tests run (and pass) on a machine
// without the binaries, and each test that needs the API server fails with the reason.
func MainLazy(m *testing.M, opts controlplane.Options, cp **controlplane.ControlPlane, setups ...Setup) {
	os.Exit(RunLazy(m, opts, cp, setups...))
}

// RunLazy is MainLazy returning the exit code, for a TestMain with work of its own to do
// after the tests.
func RunLazy(m *testing.M, opts controlplane.Options, cp **controlplane.ControlPlane, setups ...Setup) int {
	flag.Parse()
	return runWith(m, opts, cp, setups, false)
}

// runWith runs the tests with the package's control plane, started now when eager (the
// run fails when it cannot start) or at the first Need, and stops it afterwards.
func runWith(m *testing.M, opts controlplane.Options, cp **controlplane.ControlPlane, setups []Setup, eager bool) int {
	lazy.opts, lazy.cp, lazy.setups = opts, cp, setups
	before := goleak.IgnoreCurrent()
	if eager {
		if lazy.once.Do(startLazy); lazy.err != nil {
			stopLazy()
			fmt.Fprintf(os.Stderr, "testenv: %v\n", lazy.err)
			return 1
		}
	}
	code := m.Run()
	stopLazy()
	return checkLeaks(code, before)
}

// stopLazy undoes the setups, in reverse order, and stops the control plane.
func stopLazy() {
	for i := len(lazy.cleanups) - 1; i >= 0; i-- {
		lazy.cleanups[i]()
	}
	if lazy.plane != nil {
		if err := lazy.plane.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "testenv: stopping control plane: %v\n", err)
		}
	}
}

// Need makes sure the package's control plane runs (starting it, and running the
// package's setups, on first use) and fails t with the reason when it cannot: without the
// binaries, the reason names the command that builds them.
func Need(t testing.TB) {
	t.Helper()
	lazy.once.Do(startLazy)
	if lazy.err != nil {
		t.Fatalf("this test needs a real API server: %v", lazy.err)
	}
}

func startLazy() {
	if lazy.cp == nil {
		lazy.err = fmt.Errorf("testenv.Need without testenv.MainLazy in TestMain")
		return
	}
	start := time.Now()
	plane, err := controlplane.Start(lazy.opts)
	if err != nil {
		lazy.err = err
		return
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "testenv: control plane at %s ready in %s\n", plane.Host(), time.Since(start).Round(time.Millisecond))
	}
	lazy.plane = plane
	*lazy.cp = plane
	for _, setup := range lazy.setups {
		cleanup, err := setup(plane)
		if cleanup != nil {
			lazy.cleanups = append(lazy.cleanups, cleanup)
		}
		if err != nil {
			lazy.err = fmt.Errorf("setup: %w", err)
			return
		}
	}
}
