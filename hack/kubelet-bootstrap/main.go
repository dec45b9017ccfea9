//go:build ignore

// Command kubelet-bootstrap runs the real kubelet's client-certificate bootstrap
// (k8s.io/kubernetes/pkg/kubelet/certificate/bootstrap.LoadClientCert) and exits: the
// reference node implementation for comparisons and conformance runs. hack/assets.sh builds
// it inside its throwaway k8s.io/kubernetes module; it is not part of the tlsbootstrap module.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/component-base/version"
	"k8s.io/kubernetes/pkg/kubelet/certificate/bootstrap"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "path of the kubeconfig to write (and to skip bootstrap when it is valid)")
	bootstrapKubeconfig := flag.String("bootstrap-kubeconfig", "", "path of the bootstrap kubeconfig")
	certDir := flag.String("cert-dir", "", "folder for kubelet-client-*.pem")
	nodeName := flag.String("node-name", "", "node name (the certificate's CN is system:node:<name>)")
	timeout := flag.Duration("timeout", 5*time.Minute, "how long to wait for the certificate")
	showVersion := flag.Bool("version", false, "print the Kubernetes version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println("kubelet-bootstrap " + version.Get().GitVersion)
		return
	}
	if *kubeconfig == "" || *bootstrapKubeconfig == "" || *certDir == "" || *nodeName == "" {
		fmt.Fprintln(os.Stderr, "kubelet-bootstrap: --kubeconfig, --bootstrap-kubeconfig, --cert-dir and --node-name are required")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := bootstrap.LoadClientCert(ctx, *kubeconfig, *bootstrapKubeconfig, *certDir, types.NodeName(*nodeName)); err != nil {
		fmt.Fprintf(os.Stderr, "kubelet-bootstrap: %v\n", err)
		os.Exit(1)
	}
}
