package deploy_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/tlsbootstrap/tlsbootstrap/deploy"
)

// kustomization is the part of a kustomization.yaml (or Component) this loader follows.
type kustomization struct {
	Resources  []string `json:"resources"`
	Components []string `json:"components"`
	Patches    []struct {
		Target struct {
			Kind string `json:"kind"`
			Name string `json:"name"`
		} `json:"target"`
		Patch string `json:"patch"`
	} `json:"patches"`
}

// load renders a kustomization of deploy.Manifests without kubectl: every resource file
// decoded (strictly, with the client-go scheme, so a typo in a field fails), components'
// resources added and their JSON patches applied. Generators are not followed: tests
// create the CA Secret themselves.
func load(dir string) ([]*unstructured.Unstructured, error) {
	k, err := readKustomization(dir)
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	for _, r := range append(append([]string{}, k.Resources...), k.Components...) {
		p := path.Join(dir, r)
		if _, err := fs.Stat(deploy.Manifests, path.Join(p, "kustomization.yaml")); err == nil {
			sub, err := load(p)
			if err != nil {
				return nil, err
			}
			objs = append(objs, sub...)
			continue
		}
		docs, err := decodeFile(p)
		if err != nil {
			return nil, err
		}
		objs = append(objs, docs...)
	}
	for _, c := range k.Components {
		// The component's patches apply to the objects gathered so far.
		ck, err := readKustomization(path.Join(dir, c))
		if err != nil {
			return nil, err
		}
		for _, p := range ck.Patches {
			if err := applyPatch(objs, p.Target.Kind, p.Target.Name, p.Patch); err != nil {
				return nil, fmt.Errorf("%s: %w", path.Join(dir, c), err)
			}
		}
	}
	return objs, nil
}

func readKustomization(dir string) (kustomization, error) {
	var k kustomization
	data, err := fs.ReadFile(deploy.Manifests, path.Join(dir, "kustomization.yaml"))
	if err != nil {
		return k, err
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		return k, fmt.Errorf("%s/kustomization.yaml: %w", dir, err)
	}
	return k, nil
}

// decodeFile decodes every YAML document of a manifest file, checking each against the
// typed scheme.
func decodeFile(p string) ([]*unstructured.Unstructured, error) {
	data, err := fs.ReadFile(deploy.Manifests, p)
	if err != nil {
		return nil, err
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []*unstructured.Unstructured
	for i := 0; ; i++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		jsonDoc, err := yaml.YAMLToJSONStrict(doc)
		if err != nil {
			return nil, fmt.Errorf("%s document %d: %w", p, i, err)
		}
		if _, _, err := scheme.Codecs.UniversalDeserializer().Decode(jsonDoc, nil, nil); err != nil {
			return nil, fmt.Errorf("%s document %d does not decode: %w", p, i, err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(jsonDoc); err != nil {
			return nil, fmt.Errorf("%s document %d: %w", p, i, err)
		}
		objs = append(objs, u)
	}
}

// applyPatch applies a JSON 6902 patch made of "add" operations to the object of kind and
// name; any other operation is an error, so a component needing more fails here.
func applyPatch(objs []*unstructured.Unstructured, kind, name, patch string) error {
	var ops []struct {
		Op    string `json:"op"`
		Path  string `json:"path"`
		Value any    `json:"value"`
	}
	if err := yaml.Unmarshal([]byte(patch), &ops); err != nil {
		return fmt.Errorf("patch of %s/%s: %w", kind, name, err)
	}
	for _, o := range objs {
		if o.GetKind() != kind || o.GetName() != name {
			continue
		}
		for _, op := range ops {
			if op.Op != "add" {
				return fmt.Errorf("patch of %s/%s: op %q not supported by the test loader", kind, name, op.Op)
			}
			if err := addAt(o.Object, strings.Split(strings.TrimPrefix(op.Path, "/"), "/"), op.Value); err != nil {
				return fmt.Errorf("patch of %s/%s at %s: %w", kind, name, op.Path, err)
			}
		}
		return nil
	}
	return fmt.Errorf("patch target %s/%s not found", kind, name)
}

// addAt is JSON patch "add" for a path through maps and lists, "-" appending to a list.
func addAt(node any, parts []string, value any) error {
	last := len(parts) == 1
	switch n := node.(type) {
	case map[string]any:
		if last {
			n[parts[0]] = value
			return nil
		}
		child, ok := n[parts[0]]
		if !ok {
			return fmt.Errorf("no key %q", parts[0])
		}
		if l, isList := child.([]any); isList && len(parts) == 2 && parts[1] == "-" {
			n[parts[0]] = append(l, value)
			return nil
		}
		return addAt(child, parts[1:], value)
	case []any:
		i, err := strconv.Atoi(parts[0])
		if err != nil || i < 0 || i >= len(n) {
			return fmt.Errorf("bad list index %q", parts[0])
		}
		if last {
			return errors.New("replacing a list element is not an add")
		}
		if l, isList := n[i].([]any); isList && len(parts) == 2 && parts[1] == "-" {
			n[i] = append(l, value)
			return nil
		}
		return addAt(n[i], parts[1:], value)
	}
	return fmt.Errorf("cannot descend into %T", node)
}
