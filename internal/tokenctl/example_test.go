package tokenctl_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/internal/tokenctl"
)

// Main is the whole program: failures are one line and exit code 1.
func ExampleMain() {
	code := tokenctl.Main(context.Background(), []string{"frobnicate"}, os.Stdout, os.Stdout)
	fmt.Println("exit code", code)
	// Output:
	// tokenctl: unknown command "frobnicate"; run 'tokenctl --help' for the list
	// exit code 1
}

// The admin's side of a join, as functions: a token, the RBAC that lets it bootstrap,
// and the node's bootstrap kubeconfig.
func ExampleCreateToken() {
	ctx := context.Background()
	cfg, err := tokenctl.LoadRESTConfig("", tokenctl.DefaultRequestTimeout) // $KUBECONFIG or ~/.kube/config
	if err != nil {
		fmt.Println(err)
		return
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	var out bytes.Buffer
	err = tokenctl.CreateToken(ctx, client, &out, tokenctl.CreateOptions{
		TTL: time.Hour, Usages: []string{"signing", "authentication"},
		Groups: []string{"system:bootstrappers:kubeadm:default-node-token"}, Description: "rack 7",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := tokenctl.ApplyRBAC(ctx, client, os.Stdout, tokenctl.RBACOptions{Preset: tokenctl.PresetKubeadm}); err != nil {
		fmt.Println(err)
		return
	}
	err = tokenctl.WriteBootstrapKubeconfig(os.Stdout, tokenctl.BootstrapKubeconfigOptions{
		Server: cfg.Host, CAFile: "ca.crt", Token: strings.TrimSpace(out.String()), Out: "bootstrap.kubeconfig",
	})
	if err != nil {
		fmt.Println(err)
	}
}

// `kubectl get csr`, then `kubectl certificate approve`.
func ExampleListCSRs() {
	ctx := context.Background()
	cfg, err := tokenctl.LoadRESTConfig("admin.kubeconfig", 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	if err := tokenctl.ListCSRs(ctx, client, os.Stdout, time.Now()); err != nil {
		fmt.Println(err)
		return
	}
	err = tokenctl.ApproveCSRs(ctx, client, os.Stdout, []string{"node-csr-abc"}, tokenctl.DecisionOptions{Reason: "Checked"})
	if err != nil {
		fmt.Println(err)
	}
}
