package ctrlkill_test

import (
	"testing"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
)

var (
	cp *controlplane.ControlPlane
	// controllerBin is the examples/csr-controller binary, built once for the package.
	controllerBin string
)

func TestMain(m *testing.M) { testenv.Main(m, controlplane.Options{}, &cp, buildController) }

// buildController builds examples/csr-controller (testenv.BuildProgram); under -short
// nothing is built (the tests skip).
func buildController(cp *controlplane.ControlPlane) (func(), error) {
	if testing.Short() {
		return nil, nil
	}
	return testenv.BuildProgram("github.com/tlsbootstrap/tlsbootstrap/examples/csr-controller", &controllerBin)(cp)
}

// stormSize is the number of legitimate CSRs per storm: CTRLKILL_CSRS, default 200
// (quick enough for `make test`).
func stormSize(t *testing.T) int { return testenv.EnvCount(t, "CTRLKILL_CSRS", 200, 10) }
