package main

import (
	"context"
	"slices"
	"testing"
)

// TestTrustBundleNamespacesFlag: --trust-bundle-namespaces reaches the controller's options
// as listed, repeated flags appending; without it, every namespace (an empty list).
func TestTrustBundleNamespacesFlag(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"unset", nil, nil},
		{"list", []string{"--trust-bundle-namespaces=monitoring,kube-system"}, []string{"monitoring", "kube-system"}},
		{"repeated", []string{"--trust-bundle-namespaces=monitoring", "--trust-bundle-namespaces=web"}, []string{"monitoring", "web"}},
		{"every namespace", []string{"--trust-bundle-namespaces=*"}, []string{"*"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := parse(context.Background(), append([]string{"--kubeconfig=x"}, tc.args...))
			if err != nil {
				t.Fatal(err)
			}
			if got := f.opts.TrustBundleNamespaces; !slices.Equal(got, tc.want) {
				t.Errorf("TrustBundleNamespaces = %q, want %q", got, tc.want)
			}
		})
	}
}
