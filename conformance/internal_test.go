package conformance

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// The duration table of pkg/controller/certificates/signer/signer_test.go (signer TTL 24h), as lifetimes NotAfter−NotBefore.
func TestExpectedLifetime(t *testing.T) {
	for _, tc := range []struct {
		asked *time.Duration
		want  time.Duration
	}{
		{nil, 24 * time.Hour},
		{durationPtr(24 * time.Hour), 24 * time.Hour},
		{durationPtr(48 * time.Hour), 24 * time.Hour},
		{durationPtr(20 * time.Hour), 20 * time.Hour},
		{durationPtr(10 * time.Hour), 10 * time.Hour},
		{durationPtr(2 * time.Hour), 2*time.Hour + 5*time.Minute},
		{durationPtr(30 * time.Minute), 35 * time.Minute},
		{durationPtr(10 * time.Minute), 15 * time.Minute},
	} {
		if got := expectedLifetime(tc.asked, 24*time.Hour); got != tc.want {
			t.Errorf("expectedLifetime(%v, 24h) = %s, want %s", tc.asked, got, tc.want)
		}
	}
}

func sampleReport() *Report {
	return &Report{
		Implementation: Implementation{Name: "impl", Version: "1.0"},
		Profiles:       []Profile{ProfileApprover, ProfileSigner},
		Cases: []CaseResult{
			{Name: "a", Profile: ProfileApprover, Core: true, Result: Succeeded, Duration: time.Second},
			{Name: "b", Profile: ProfileApprover, Features: []Feature{FeatureServingApproval}, Result: NotSupported, Message: "the implementation does not support ServingApproval"},
			{Name: "c", Profile: ProfileSigner, Core: true, Result: Failed, Message: `expected x; saw "y" & <z>`},
		},
	}
}

func TestReportFormats(t *testing.T) {
	r := sampleReport()
	if r.CorePassed() {
		t.Errorf("CorePassed with a failed core case")
	}
	var table bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CASE", "PROFILE", "LEVEL", "RESULT", "DURATION", "extended", "NOT_SUPPORTED", "FAILED signer/c: expected x", "core cases passed: false"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	for name, render := range map[string]func() ([]byte, error){"json": r.jsonReport, "yaml": r.yamlReport} {
		data, err := render()
		if err != nil {
			t.Fatal(err)
		}
		var back Report
		if name == "json" {
			err = json.Unmarshal(data, &back)
		} else {
			err = yaml.Unmarshal(data, &back)
		}
		if err != nil || len(back.Cases) != 3 || back.Cases[2].Result != Failed || back.Implementation.Name != "impl" {
			t.Errorf("%s round trip: err=%v report=%+v", name, err, back)
		}
	}
	data, err := r.junitReport()
	if err != nil {
		t.Fatal(err)
	}
	var suites junitSuites
	if err := xml.Unmarshal(data, &suites); err != nil {
		t.Fatalf("JUnit is not XML: %v\n%s", err, data)
	}
	if suites.Tests != 3 || suites.Failures != 1 || len(suites.Suites) != 2 || suites.Suites[0].Skipped != 1 {
		t.Errorf("JUnit counts: tests=%d failures=%d suites=%d\n%s", suites.Tests, suites.Failures, len(suites.Suites), data)
	}
	if f := suites.Suites[1].Cases[0].Failure; f == nil || !strings.Contains(f.Message, `"y" & <z>`) {
		t.Errorf("JUnit failure message not kept: %+v", f)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Options
		ok   bool
	}{
		{"defaults", Options{}, true},
		{"known profile and feature", Options{Profiles: []Profile{ProfileSigner}, UnsupportedFeatures: []Feature{FeatureServingApproval}}, true},
		{"unknown profile", Options{Profiles: []Profile{"signers"}}, false},
		{"unknown feature", Options{UnsupportedFeatures: []Feature{"Serving"}}, false},
		{"signing duration too short", Options{SigningDuration: time.Minute}, false},
	} {
		err := tc.cfg.withDefaults().validate()
		if (err == nil) != tc.ok {
			t.Errorf("%s: validate() = %v, want ok=%t", tc.name, err, tc.ok)
		}
	}
	if _, err := (Options{}).restConfig(); err == nil || !strings.Contains(err.Error(), "admin") {
		t.Errorf("restConfig without RESTConfig or Kubeconfig: %v, want an error naming the admin identity", err)
	}
}

func TestSuiteCasesWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range newSuite().Cases {
		if seen[c.FullName()] {
			t.Errorf("duplicate case %s", c.FullName())
		}
		seen[c.FullName()] = true
		if c.Run == nil || c.Description == "" {
			t.Errorf("%s: missing Run or Description", c.FullName())
		}
		if c.Core && len(c.Features) > 0 {
			t.Errorf("%s: a core case cannot need a feature", c.FullName())
		}
		if !c.Core && len(c.Features) == 0 {
			t.Errorf("%s: an extended case must declare its feature", c.FullName())
		}
	}
}
