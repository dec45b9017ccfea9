package main

import (
	"context"
	"fmt"
	"k8s.io/klog/v2"
	"os"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

// ownCleanerInterval is how often the in-process controller's CSR cleaner runs by
// default: short, so cleaner/retention sees a pass within its bounded wait.
const ownCleanerInterval = 2 * time.Second

// startOwnController runs the project's controller (approve, serving approval, sign,
// clean every cleanerInterval) in-process until the returned stop is called.
func startOwnController(ctx context.Context, client kubernetes.Interface, ca sign.CAProvider, signingDuration, cleanerInterval time.Duration) func() {
	fmt.Fprintln(os.Stderr, "running the project's controller in-process")
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- controller.Run(klog.NewContext(ctx, logr.Discard()), client, controller.Options{
			Controllers:      []string{controller.CSRApproving, controller.ServingApproving, controller.CSRSigning, controller.CSRCleaner},
			ClusterSigningCA: ca,
			SigningDuration:  signingDuration,
			CleanerInterval:  cleanerInterval,
		})
	}()
	return func() {
		cancel()
		if err := <-done; err != nil {
			fmt.Fprintf(os.Stderr, "controller: %v\n", err)
		}
	}
}
