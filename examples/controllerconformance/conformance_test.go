package controllerconformance_test

import (
	"bytes"
	"testing"

	"github.com/tlsbootstrap/tlsbootstrap/clustertest"
	"github.com/tlsbootstrap/tlsbootstrap/conformance"
	"github.com/tlsbootstrap/tlsbootstrap/examples/controllerconformance"
)

// TestServingConformance rates the project's serving approver with the serving profile,
// core and extended, on the public test control plane: one subtest per case
// (go test -run 'TestServingConformance/serving/ipv6' picks one).
func TestServingConformance(t *testing.T) {
	cluster, err := clustertest.Start(clustertest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cluster.Stop() })

	report := conformance.RunTests(t, conformance.Options{
		RESTConfig:     cluster.Config,
		Implementation: conformance.Implementation{Name: "tlsbootstrap", Version: "dev"},
		Profiles:       []conformance.Profile{conformance.ProfileServing},
		CACertPEM:      cluster.SigningCA.CertPEM(),
		Provision:      controllerconformance.Provision(cluster.SigningCA),
	})

	var table bytes.Buffer
	if err := report.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", table.String())
	// Every case, extended ones too: the project's approver enforces every serving rule.
	for _, c := range report.Cases {
		if c.Result != conformance.Succeeded {
			t.Errorf("%s: %s, want %s", c.FullName(), c.Result, conformance.Succeeded)
		}
	}
	if len(report.Cases) < 8 {
		t.Errorf("the serving profile ran %d cases, want at least 8", len(report.Cases))
	}
}
