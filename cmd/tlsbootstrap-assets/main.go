// Command tlsbootstrap-assets builds the binaries a real test control plane needs from the
// Go module proxy, for the tests of programs that import tlsbootstrap (package clustertest):
//
//	go run github.com/tlsbootstrap/tlsbootstrap/cmd/tlsbootstrap-assets@latest [-dir DIR] [BINARY...]
//
// BINARY is etcd, kube-apiserver, kube-controller-manager or kubelet-bootstrap (the
// kubelet's own certificate code); none named means all four. clustertest needs etcd and
// kube-apiserver only:
//
//	go run github.com/tlsbootstrap/tlsbootstrap/cmd/tlsbootstrap-assets@latest etcd kube-apiserver
//
// It prints the folder last; clustertest finds it there by itself (or set
// KUBEBUILDER_ASSETS to it). Binaries that are present are kept. The first build takes
// minutes (kube-apiserver alone about 7 on 2 cores); while a step runs, a line on stderr
// says every 30 seconds what is being built and for how long (ASSETS_PROGRESS_INTERVAL sets
// the seconds).
//
// The work is done by assets.sh (embedded; hack/assets.sh runs the same script in this
// repository), whose header documents its interface.
package main

import (
	"embed"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
)

//go:embed assets.sh kubeletbootstrap/main.go
var scripts embed.FS

func main() {
	dir := flag.String("dir", "", "folder for the binaries (default: "+controlplane.DefaultAssetsDir()+")")
	printDir := flag.Bool("print-dir", false, "print the folder and build nothing")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: tlsbootstrap-assets [-dir DIR] [-print-dir] [BINARY...]\n"+
			"Builds the BINARYs (%s; default: all) and prints their folder.\n", strings.Join(binaries, ", "))
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := run(*dir, *printDir, flag.Args()); err != nil {
		fmt.Fprintf(os.Stderr, "tlsbootstrap-assets: %v\n", err)
		os.Exit(1)
	}
}

// binaries are the names assets.sh builds.
var binaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kubelet-bootstrap"}

func run(dir string, printDir bool, names []string) error {
	if dir == "" {
		dir = controlplane.DefaultAssetsDir()
	}
	if printDir {
		fmt.Println(dir)
		return nil
	}
	for _, name := range names {
		if !slices.Contains(binaries, name) {
			return fmt.Errorf("unknown binary %q; want some of %s", name, strings.Join(binaries, ", "))
		}
	}
	tmp, err := os.MkdirTemp("", "tlsbootstrap-assets-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, name := range []string{"assets.sh", "kubeletbootstrap/main.go"} {
		data, err := scripts.ReadFile(name)
		if err != nil {
			return err
		}
		path := filepath.Join(tmp, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
	}
	cmd := exec.Command("bash", append([]string{filepath.Join(tmp, "assets.sh")}, names...)...)
	cmd.Env = append(os.Environ(),
		"ASSETS_DIR="+dir,
		"ASSETS_WORK="+filepath.Join(filepath.Dir(dir), ".build"),
		"KUBELET_BOOTSTRAP_SRC="+filepath.Join(tmp, "kubeletbootstrap/main.go"),
		"K8S_VERSION="+controlplane.KubernetesVersion,
	)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building the binaries: %w", err)
	}
	return nil
}
