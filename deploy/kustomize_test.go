package deploy_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/tlsbootstrap/tlsbootstrap/deploy"
)

func lookPath(name string) (string, error) { return exec.LookPath(name) }

// kustomizeBuild copies the embedded manifests to a temporary directory, adds a CA for
// the example's secretGenerator, and runs kubectl kustomize on the example.
func kustomizeBuild(t *testing.T, kubectl string) []*unstructured.Unstructured {
	t.Helper()
	return kustomizeBuildWith(t, kubectl, "example", nil)
}

// kustomizeBuildWith is kustomizeBuild of the kustomization in target (a directory of the
// copy), with extra files (paths relative to the copy) written first.
func kustomizeBuildWith(t *testing.T, kubectl, target string, extra map[string][]byte) []*unstructured.Unstructured {
	t.Helper()
	dir := t.TempDir()
	err := fs.WalkDir(deploy.Manifests, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(deploy.Manifests, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"ca.crt": cp.CA.CertPEM, "ca.key": cp.CA.KeyPEM} {
		if err := os.WriteFile(filepath.Join(dir, "example", name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range extra {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(kubectl, "kustomize", filepath.Join(dir, filepath.FromSlash(target)))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl kustomize: %v: %s", err, stderr.String())
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(out)))
	var objs []*unstructured.Unstructured
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatal(err)
		}
		j, err := yaml.YAMLToJSON(doc)
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(j); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, u)
	}
}
