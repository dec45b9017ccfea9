package testenv

import (
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
)

// Main starts a control plane with opts, stores it in *cp, runs the package's tests and
// stops the control plane before exiting with the tests' code.
func Main(m *testing.M, opts controlplane.Options, cp **controlplane.ControlPlane) {
	os.Exit(run(m, opts, cp))
}

func run(m *testing.M, opts controlplane.Options, cp **controlplane.ControlPlane) int {
	flag.Parse() // so testing.Verbose and -run work before m.Run
	start := time.Now()
	plane, err := controlplane.Start(opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
		return 1
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "testenv: control plane at %s ready in %s\n", plane.Host(), time.Since(start).Round(time.Millisecond))
	}
	*cp = plane
	defer func() {
		if err := plane.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "testenv: stopping control plane: %v\n", err)
		}
	}()
	return m.Run()
}
