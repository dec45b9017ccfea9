package conformance_test

import (
	"context"
	"fmt"
	"os"

	"github.com/tlsbootstrap/tlsbootstrap/conformance"
)

// Run the approver and serving profiles against whatever runs in the cluster of
// admin.kubeconfig, and write the reports. An approver of client CSRs only would list
// ServingApproval as unsupported, and the serving profile would report NOT_SUPPORTED.
func ExampleRun() {
	ca, err := os.ReadFile("ca.crt") // the CA the signer under test signs with
	if err != nil {
		fmt.Println(err)
		return
	}
	report, err := conformance.Run(context.Background(), conformance.Options{
		Kubeconfig:          "admin.kubeconfig",
		Implementation:      conformance.Implementation{Name: "my-approver", Version: "0.1.0"},
		Profiles:            []conformance.Profile{conformance.ProfileApprover, conformance.ProfileServing, conformance.ProfileSigner},
		UnsupportedFeatures: []conformance.Feature{conformance.FeatureServingAuditMode},
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
