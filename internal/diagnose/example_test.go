package diagnose_test

import (
	"context"
	"fmt"

	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/internal/diagnose"
)

// ExampleExplain prints why a node's CSR is still Pending and what to do about it.
func ExampleExplain() {
	var client kubernetes.Interface // an admin clientset
	if client == nil {
		return
	}
	e, err := diagnose.Explain(context.Background(), client, "node-csr-abc", diagnose.Options{
		// The signers some controller in the cluster runs: Explain cannot see them.
		SignerNames: diagnose.DefaultServedSigners,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(e.State, e.Kinds)
	for _, f := range e.Findings {
		fmt.Printf("problem: %s\nfix: %s\n", f.Problem, f.Fix)
	}
}
