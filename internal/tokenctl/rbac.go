package tokenctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/rbac"
)

// The presets the rbac commands know.
const (
	// PresetKubeadm is rbac.KubeadmPreset.
	PresetKubeadm = "kubeadm"
	// PresetSeed is rbac.SeedPreset.
	PresetSeed = "seed"
)

// Presets are the names accepted by RBACOptions.Preset.
var Presets = []string{PresetKubeadm, PresetSeed}

// RBACOptions choose a preset.
type RBACOptions struct {
	// Preset is one of Presets. Required.
	Preset string
	// Group is the bootstrap group the preset binds; empty means the preset's default
	// (system:bootstrappers:kubeadm:default-node-token for kubeadm, system:bootstrappers
	// for seed).
	Group string
	// Nodes makes the seed preset's renewal bindings per node; not for kubeadm.
	Nodes []string
}

// preset builds the preset opts names.
func (opts RBACOptions) preset() (rbac.Preset, error) {
	switch opts.Preset {
	case PresetKubeadm:
		if len(opts.Nodes) > 0 {
			return rbac.Preset{}, errors.New("--node is for the seed preset; the kubeadm preset binds renewals for the group system:nodes")
		}
		return rbac.KubeadmPreset(opts.Group), nil
	case PresetSeed:
		return rbac.SeedPreset(rbac.SeedOptions{Group: opts.Group, Nodes: opts.Nodes}), nil
	case "":
		return rbac.Preset{}, fmt.Errorf("--preset is required (one of %s)", strings.Join(Presets, ", "))
	}
	return rbac.Preset{}, fmt.Errorf("unknown preset %q (one of %s)", opts.Preset, strings.Join(Presets, ", "))
}

// ApplyRBAC creates or repairs the preset's ClusterRoles and ClusterRoleBindings and
// prints one line per object.
func ApplyRBAC(ctx context.Context, client kubernetes.Interface, out io.Writer, opts RBACOptions) error {
	p, err := opts.preset()
	if err != nil {
		return err
	}
	if err := rbac.Apply(ctx, client, p); err != nil {
		return err
	}
	printObjects(out, p, "applied")
	return nil
}

// RevokeRBAC deletes the preset's bindings, then its roles (objects already gone are
// fine), and prints one line per object.
func RevokeRBAC(ctx context.Context, client kubernetes.Interface, out io.Writer, opts RBACOptions) error {
	p, err := opts.preset()
	if err != nil {
		return err
	}
	if err := rbac.Revoke(ctx, client, p); err != nil {
		return err
	}
	printObjects(out, p, "revoked")
	return nil
}

// printObjects prints kubectl-style lines: clusterrole.rbac.authorization.k8s.io/NAME verb.
func printObjects(out io.Writer, p rbac.Preset, verb string) {
	for _, r := range p.ClusterRoles {
		fmt.Fprintf(out, "clusterrole.rbac.authorization.k8s.io/%s %s\n", r.Name, verb)
	}
	for _, b := range p.ClusterRoleBindings {
		fmt.Fprintf(out, "clusterrolebinding.rbac.authorization.k8s.io/%s %s\n", b.Name, verb)
	}
}
