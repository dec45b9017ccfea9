package controlplane_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
)

// fakeBinaries makes dir hold executables of the names given (only their presence counts).
func fakeBinaries(t *testing.T, dir string, names ...string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAssetsWithEtcdAndAPIServerOnly: the folder `make demo` fills (etcd and kube-apiserver)
// is a control plane's; a comparison's binary is taken from the next folder that has it,
// and when none has it the error names the command that builds that binary.
func TestAssetsWithEtcdAndAPIServerOnly(t *testing.T) {
	repo, cache := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(repo, "go.mod"), []byte("module github.com/tlsbootstrap/tlsbootstrap\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	repoBin := filepath.Join(repo, "bin", "k8s", controlplane.KubernetesVersion)
	fakeBinaries(t, repoBin, "etcd", "kube-apiserver")
	t.Chdir(repo)
	t.Setenv("KUBEBUILDER_ASSETS", "")
	t.Setenv("XDG_CACHE_HOME", cache)

	if dir, err := controlplane.AssetsDir(); err != nil || dir != repoBin {
		t.Fatalf("AssetsDir() = %q, %v; want %q", dir, err, repoBin)
	}
	_, err := controlplane.BinaryPath("kube-controller-manager")
	if want := controlplane.AssetsCommand + " etcd kube-apiserver kube-controller-manager"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("BinaryPath(kube-controller-manager) with none built: %v; want an error naming %q", err, want)
	}

	cacheBin := controlplane.DefaultAssetsDir()
	if !strings.HasPrefix(cacheBin, cache) {
		t.Fatalf("DefaultAssetsDir() = %q, not under XDG_CACHE_HOME=%s", cacheBin, cache)
	}
	fakeBinaries(t, cacheBin, "etcd", "kube-apiserver", "kube-controller-manager")
	if got, err := controlplane.BinaryPath("kube-controller-manager"); err != nil || got != filepath.Join(cacheBin, "kube-controller-manager") {
		t.Errorf("BinaryPath(kube-controller-manager) = %q, %v; want the cache folder's", got, err)
	}
	if got, err := controlplane.BinaryPath("kube-apiserver"); err != nil || got != filepath.Join(repoBin, "kube-apiserver") {
		t.Errorf("BinaryPath(kube-apiserver) = %q, %v; want the repository's", got, err)
	}

	t.Setenv("KUBEBUILDER_ASSETS", repoBin)
	if _, err := controlplane.BinaryPath("kubelet-bootstrap"); err == nil || !strings.Contains(err.Error(), "KUBEBUILDER_ASSETS="+repoBin) {
		t.Errorf("BinaryPath(kubelet-bootstrap) with KUBEBUILDER_ASSETS lacking it: %v; want an error naming KUBEBUILDER_ASSETS", err)
	}
}
