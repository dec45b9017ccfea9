package csr_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// The kubelet's CSR name depends only on the key, the subject and the usages, so a node
// that retries with the same key finds the CSR it created before.
func ExampleNodeCSRName() {
	key, err := csr.ParseKeyPEM([]byte(vectorKeyPEM))
	if err != nil {
		log.Fatal(err)
	}
	usages := csr.NodeClientUsages(key.Public())
	name, err := csr.NodeCSRName(key.Public(), csr.NodeSubject("vector-node"), usages)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(usages)
	fmt.Println(name)
	// Output:
	// [digital signature client auth]
	// node-csr-HMo0bw_HOZOirhUcsjfYdd0PIGdmeREM2p3nAIsNX-U
}

// A node requests its client certificate with its bootstrap credentials and waits, at
// most ten minutes, for an approver and a signer to issue it.
func ExampleRequest() {
	cfg, err := clientcmd.BuildConfigFromFlags("", "/var/lib/kubelet/bootstrap-kubeconfig")
	if err != nil {
		log.Fatal(err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		log.Fatal(err)
	}
	key, err := csr.GenerateKey(csr.ECDSAP256)
	if err != nil {
		log.Fatal(err)
	}
	spec, err := csr.NodeClientSpec("worker-1", key, nil)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	certPEM, name, err := csr.Request(ctx, client, csr.RequestSpec{Spec: spec, Key: key})
	if err != nil {
		log.Fatal(err) // e.g. *csr.DeniedError with the approver's reason
	}
	fmt.Printf("CSR %s issued %d bytes of certificate\n", name, len(certPEM))
}

// Ended tells a request that will never be issued (retry with a new CSR) from a wait that
// ran out while the CSR was still pending (keep waiting, or ask an admin).
func ExampleEnded() {
	denied := fmt.Errorf("bootstrap: %w", &csr.DeniedError{Name: "node-csr-abc", Reason: "NotTrusted"})
	pending := fmt.Errorf("bootstrap: %w", &csr.WaitError{Name: "node-csr-abc", Err: context.DeadlineExceeded})
	fmt.Println(csr.Ended(denied), csr.Ended(pending))
	// Output: true false
}
