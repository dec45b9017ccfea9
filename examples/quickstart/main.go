// Command quickstart runs the whole TLS bootstrap flow on an embedded control plane (a real
// kube-apiserver and etcd).
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "quickstart: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	start := time.Now()
	fmt.Println("starting control plane (kube-apiserver + etcd)...")
	cp, err := controlplane.Start(controlplane.Options{})
	if err != nil {
		return err
	}
	defer cp.Stop()
	fmt.Printf("control plane ready at %s in %s\n", cp.Host(), time.Since(start).Round(time.Millisecond))
	return nil
}
