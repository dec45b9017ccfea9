// Command tlsbootstrap-assets builds the binaries a real test control plane needs (etcd,
// kube-apiserver, kube-controller-manager, and kubelet-bootstrap, the kubelet's own
// certificate code) from the Go module proxy, for the tests of programs that import
// tlsbootstrap (package clustertest):
//
//	go run github.com/tlsbootstrap/tlsbootstrap/cmd/tlsbootstrap-assets@latest
//
// It prints the folder last; clustertest finds it there by itself (or set
// KUBEBUILDER_ASSETS to it). The first build takes about 10 minutes on 2 cores; binaries
// that are present are kept.
package main

import (
	"embed"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/tlsbootstrap/tlsbootstrap/clustertest"
)

//go:embed assets.sh kubeletbootstrap/main.go
var scripts embed.FS

func main() {
	dir := flag.String("dir", "", "folder for the binaries (default: "+clustertest.DefaultAssetsDir()+")")
	printDir := flag.Bool("print-dir", false, "print the folder and build nothing")
	flag.Parse()
	if err := run(*dir, *printDir); err != nil {
		fmt.Fprintf(os.Stderr, "tlsbootstrap-assets: %v\n", err)
		os.Exit(1)
	}
}

func run(dir string, printDir bool) error {
	if dir == "" {
		dir = clustertest.DefaultAssetsDir()
	}
	if printDir {
		fmt.Println(dir)
		return nil
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
	cmd := exec.Command("bash", filepath.Join(tmp, "assets.sh"))
	cmd.Env = append(os.Environ(),
		"ASSETS_DIR="+dir,
		"ASSETS_WORK="+filepath.Join(filepath.Dir(dir), ".build"),
		"KUBELET_BOOTSTRAP_SRC="+filepath.Join(tmp, "kubeletbootstrap/main.go"),
		"K8S_VERSION="+clustertest.KubernetesVersion,
	)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building the binaries: %w", err)
	}
	return nil
}
