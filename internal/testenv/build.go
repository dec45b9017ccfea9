package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
)

// Build compiles the main package pkg (an import path such as
// github.com/tlsbootstrap/tlsbootstrap/examples/node-agent) into dir and returns the
// binary's path (dir/<last element of pkg>).
func Build(dir, pkg string) (string, error) {
	name := path.Base(pkg)
	bin := filepath.Join(dir, name)
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %v\n%s", name, err, out)
	}
	return bin, nil
}

// BuildProgram is a Setup that builds pkg (Build) into a temporary folder, removed after
// the tests, and stores the binary's path in *bin.
func BuildProgram(pkg string, bin *string) Setup {
	return func(*controlplane.ControlPlane) (func(), error) {
		dir, err := os.MkdirTemp("", path.Base(pkg)+"-")
		if err != nil {
			return nil, err
		}
		cleanup := func() { _ = os.RemoveAll(dir) }
		if *bin, err = Build(dir, pkg); err != nil {
			cleanup()
			return nil, err
		}
		return cleanup, nil
	}
}
