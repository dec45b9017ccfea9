package testenv

import (
	"flag"
	"os"
	"testing"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
)

// Setup prepares package-wide fixtures on the running control plane (e.g. starts a
// controller); its cleanup runs after the tests, before the control plane stops, and also
// when it returns an error alongside one (to undo what it made before failing).
type Setup func(cp *controlplane.ControlPlane) (cleanup func(), err error)

// Main starts a control plane with opts, stores it in *cp, runs the setups, runs the
// package's tests, then cleans up in reverse order and stops the control plane before
// exiting with the tests' code.
func Main(m *testing.M, opts controlplane.Options, cp **controlplane.ControlPlane, setups ...Setup) {
	os.Exit(run(m, opts, cp, setups))
}

func run(m *testing.M, opts controlplane.Options, cp **controlplane.ControlPlane, setups []Setup) int {
	flag.Parse() // so testing.Verbose and -run work before m.Run
	if fuzzing() {
		// Fuzz targets exercise pure parsing, and every fuzz worker re-runs TestMain:
		// a control plane per worker would only slow fuzzing down (and leak on kill).
		return m.Run()
	}
	return runWith(m, opts, cp, setups, true)
}

// fuzzing reports whether this test binary is fuzzing (as coordinator or worker).
func fuzzing() bool {
	for _, name := range []string{"test.fuzz", "test.fuzzworker"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" && f.Value.String() != "false" {
			return true
		}
	}
	return false
}
