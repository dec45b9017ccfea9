package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
)

// ownCleanerInterval is how often the in-process controller's CSR cleaner runs by
// default: short, so cleaner/retention sees a pass within its bounded wait.
const ownCleanerInterval = 2 * time.Second

// startOwnController runs the project's controller (approve, serving approval, sign,
// clean every cleanerInterval) in-process until the returned stop is called.
func startOwnController(ctx context.Context, client kubernetes.Interface, caCert, caKey string, signingDuration, cleanerInterval time.Duration) func() {
	fmt.Fprintln(os.Stderr, "running the project's controller in-process")
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- controller.Run(ctx, client, controller.Options{
			Controllers:      []string{controller.CSRApproving, controller.ServingApproving, controller.CSRSigning, controller.CSRCleaner},
			ClusterSigningCA: controller.CAFiles{CertFile: caCert, KeyFile: caKey},
			SigningDuration:  signingDuration,
			CleanerInterval:  cleanerInterval,
			Logger:           logr.Discard(),
		})
	}()
	return func() {
		cancel()
		if err := <-done; err != nil {
			fmt.Fprintf(os.Stderr, "controller: %v\n", err)
		}
	}
}
