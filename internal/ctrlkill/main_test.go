package ctrlkill_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/faults"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
)

var (
	cp *controlplane.ControlPlane
	// controllerBin is the examples/csr-controller binary, built once for the package.
	controllerBin string
)

func TestMain(m *testing.M) { testenv.Main(m, controlplane.Options{}, &cp, buildController) }

// buildController builds examples/csr-controller into a temporary folder removed after the
// tests. Under -short nothing is built (the tests skip).
func buildController(*controlplane.ControlPlane) (func(), error) {
	if testing.Short() {
		return nil, nil
	}
	dir, err := os.MkdirTemp("", "ctrlkill-")
	if err != nil {
		return nil, err
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	controllerBin = filepath.Join(dir, "csr-controller")
	build := exec.Command("go", "build", "-o", controllerBin, "github.com/tlsbootstrap/tlsbootstrap/examples/csr-controller")
	if out, err := build.CombinedOutput(); err != nil {
		cleanup()
		return nil, fmt.Errorf("building csr-controller: %v\n%s", err, out)
	}
	return cleanup, nil
}

// stormSize is the number of legitimate CSRs per storm: CTRLKILL_CSRS, default 200
// (quick enough for `make test`).
func stormSize(t *testing.T) int {
	t.Helper()
	if s := os.Getenv("CTRLKILL_CSRS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 10 {
			t.Fatalf("CTRLKILL_CSRS=%q is not a number of at least 10", s)
		}
		return n
	}
	return 200
}

// writeSummary logs the scenario's summary line (faults.Line: passed unless t failed) and
// appends it to the file CTRLKILL_SUMMARY names, if any. Call it last.
func writeSummary(t *testing.T, scenario, figure string) {
	t.Helper()
	line := faults.Line(scenario, !t.Failed(), figure)
	t.Log(line)
	if path := os.Getenv("CTRLKILL_SUMMARY"); path != "" {
		if err := faults.Append(path, line); err != nil {
			t.Errorf("CTRLKILL_SUMMARY: %v", err)
		}
	}
}
