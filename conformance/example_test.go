package conformance_test

import (
	"context"
	"fmt"
	"os"

	"github.com/tlsbootstrap/tlsbootstrap/conformance"
)

// Run the core approver and signer profiles against whatever runs in the cluster of
// admin.kubeconfig, and write the reports.
func ExampleRun() {
	ca, err := os.ReadFile("ca.crt") // the CA the signer under test signs with
	if err != nil {
		fmt.Println(err)
		return
	}
	report, err := conformance.Run(context.Background(), conformance.Options{
		Kubeconfig:          "admin.kubeconfig",
		Implementation:      conformance.Implementation{Name: "my-approver", Version: "0.1.0"},
		Profiles:            []conformance.Profile{conformance.ProfileApprover, conformance.ProfileSigner},
		UnsupportedFeatures: []conformance.Feature{conformance.FeatureServingApproval},
		CACertPEM:           ca,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = report.WriteTable(os.Stdout)
	_ = report.WriteFiles("conformance-report")
	fmt.Println("conformant:", report.CorePassed())
}
