package conformance_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"

	"github.com/tlsbootstrap/tlsbootstrap/conformance"
	"k8s.io/client-go/rest"
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

// A ProvisionFunc starts the implementation under test for the run, configured from the
// Environment the suite gives it, and returns how to stop it; here an approver of one's
// own, run in-process until the suite is done.
func ExampleProvisionFunc() {
	runMyApprover := func(ctx context.Context, admin *rest.Config, allowed []netip.Prefix) error {
		<-ctx.Done() // your approver, allowing IP SANs in allowed only
		return nil
	}
	provision := func(_ context.Context, env conformance.Environment) (func(context.Context) error, error) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- runMyApprover(ctx, env.RESTConfig, env.ServingAllowedIPPrefixes) }()
		return func(context.Context) error { cancel(); return <-done }, nil
	}
	report, err := conformance.Run(context.Background(), conformance.Options{
		Kubeconfig:          "admin.kubeconfig",
		Implementation:      conformance.Implementation{Name: "my-approver", Version: "0.1.0"},
		Profiles:            []conformance.Profile{conformance.ProfileServing},
		UnsupportedFeatures: []conformance.Feature{conformance.FeatureServingAuditMode},
		Provision:           provision,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("serving profile:", report.ProfileResults()[conformance.ProfileServing])
}
