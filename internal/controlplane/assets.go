package controlplane

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// KubernetesVersion is the version of kube-apiserver and kube-controller-manager the
// project builds and tests against.
const KubernetesVersion = "1.37.2"

const modulePath = "github.com/tlsbootstrap/tlsbootstrap"

// requiredBinaries are what a control plane runs: an asset folder must hold them. The
// comparisons with Kubernetes' own programs look up kube-controller-manager and
// kubelet-bootstrap with BinaryPath when they need them, so that the quickstart and
// clustertest work with the two built (hack/assets.sh etcd kube-apiserver, make demo).
var requiredBinaries = []string{"etcd", "kube-apiserver"}

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

// AssetsDir returns the folder holding etcd and kube-apiserver:
// KUBEBUILDER_ASSETS when set (the envtest convention); else bin/k8s/<version> of this
// repository when working inside it (make assets); else DefaultAssetsDir. The error
// names the command that builds them.
func AssetsDir() (string, error) {
	return assetsDir(requiredBinaries)
}

// BinaryPath returns the path of one binary of the asset folders: etcd, kube-apiserver,
// kube-controller-manager, or kubelet-bootstrap (the real kubelet's certificate code). It
// is looked up as AssetsDir looks up the control plane, in the first folder that holds it
// besides etcd and kube-apiserver: bin/k8s/<version> may hold only those two (make demo).
func BinaryPath(name string) (string, error) {
	names := requiredBinaries
	if !slices.Contains(names, name) {
		names = append(slices.Clip(names), name)
	}
	dir, err := assetsDir(names)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, name), nil
}

// assetsDir returns the first folder of AssetsDir's order that holds all of names.
func assetsDir(names []string) (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, checkBinaries(dir, "KUBEBUILDER_ASSETS="+dir, names)
	}
	var tried []string
	if root, err := moduleRoot(); err == nil {
		dir := filepath.Join(root, "bin", "k8s", KubernetesVersion)
		if checkBinaries(dir, dir, names) == nil {
			return dir, nil
		}
		tried = append(tried, dir+" (make assets)")
	}
	dir := DefaultAssetsDir()
	if err := checkBinaries(dir, dir, names); err != nil {
		tried = append(tried, dir)
		return "", fmt.Errorf("the control-plane binaries (%s) are in none of %s; build them with `%s %s` (several minutes the first time), or set KUBEBUILDER_ASSETS to a folder that has them",
			strings.Join(names, ", "), strings.Join(tried, ", "), AssetsCommand, strings.Join(names, " "))
	}
	return dir, nil
}

func checkBinaries(dir, where string, names []string) error {
	var missing []string
	for _, b := range names {
		info, err := os.Stat(filepath.Join(dir, b))
		if err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("control-plane binaries missing in %s: %s; build them with `%s %s`, or point KUBEBUILDER_ASSETS at a folder that has them",
			where, strings.Join(missing, ", "), AssetsCommand, strings.Join(names, " "))
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
