package controlplane

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KubernetesVersion is the version of kube-apiserver and kube-controller-manager the
// project builds and tests against.
const KubernetesVersion = "1.37.2"

const modulePath = "github.com/tlsbootstrap/tlsbootstrap"

// Binaries the project needs from the asset folder.
var requiredBinaries = []string{"etcd", "kube-apiserver", "kube-controller-manager"}

// AssetsCommand builds the binaries from any module: what a missing-binaries error asks
// an importer to run.
const AssetsCommand = "go run " + modulePath + "/cmd/tlsbootstrap-assets@latest"

// DefaultAssetsDir is where AssetsCommand puts the binaries: tlsbootstrap/k8s/<version>
// in the user's cache folder.
func DefaultAssetsDir() string {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	return filepath.Join(cache, "tlsbootstrap", "k8s", KubernetesVersion)
}

// AssetsDir returns the folder holding etcd, kube-apiserver and kube-controller-manager:
// KUBEBUILDER_ASSETS when set (the envtest convention); else bin/k8s/<version> of this
// repository when working inside it (make assets); else DefaultAssetsDir. The error
// names the command that builds them.
func AssetsDir() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, checkBinaries(dir, "KUBEBUILDER_ASSETS="+dir)
	}
	var tried []string
	if root, err := moduleRoot(); err == nil {
		dir := filepath.Join(root, "bin", "k8s", KubernetesVersion)
		if checkBinaries(dir, dir) == nil {
			return dir, nil
		}
		tried = append(tried, dir+" (make assets)")
	}
	dir := DefaultAssetsDir()
	if err := checkBinaries(dir, dir); err != nil {
		tried = append(tried, dir)
		return "", fmt.Errorf("the control-plane binaries (%s) are in none of %s; build them with `%s` (about 10 minutes the first time), or set KUBEBUILDER_ASSETS to a folder that has them",
			strings.Join(requiredBinaries, ", "), strings.Join(tried, ", "), AssetsCommand)
	}
	return dir, nil
}

// BinaryPath returns the path of one binary of the asset folder: etcd, kube-apiserver,
// kube-controller-manager, or kubelet-bootstrap (the real kubelet's certificate code).
func BinaryPath(name string) (string, error) {
	dir, err := AssetsDir()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	if info, err := os.Stat(path); err != nil || info.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%s is missing in %s; build it with `%s` (or make assets in this repository)", name, dir, AssetsCommand)
	}
	return path, nil
}

func checkBinaries(dir, where string) error {
	var missing []string
	for _, b := range requiredBinaries {
		info, err := os.Stat(filepath.Join(dir, b))
		if err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("control-plane binaries missing in %s: %s; build them with `%s`, or point KUBEBUILDER_ASSETS at a folder that has them",
			where, strings.Join(missing, ", "), AssetsCommand)
	}
	return nil
}

// moduleRoot walks up from the working directory to the go.mod of this module.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the module root: %w", err)
	}
	for {
		if isThisModule(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of %s above the working directory; set KUBEBUILDER_ASSETS to the folder with etcd and kube-apiserver", modulePath)
		}
		dir = parent
	}
}

func isThisModule(goMod string) bool {
	f, err := os.Open(goMod)
	if err != nil {
		return false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if strings.HasPrefix(line, "module ") {
			return strings.TrimSpace(strings.TrimPrefix(line, "module ")) == modulePath
		}
	}
	return false
}
