package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
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
	for _, want := range []string{"CASE", "PROFILE", "LEVEL", "RESULT", "OBSERVED", "DURATION", "extended", "NOT_SUPPORTED", "FAILED signer/c: expected x", "core cases passed: false", "profile signer: FAILED"} {
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

func TestProfileResults(t *testing.T) {
	notSupported := func(name string, core bool) CaseResult {
		return CaseResult{Name: name, Profile: ProfileServing, Core: core, Result: NotSupported, Message: "the implementation does not support ServingApproval: why"}
	}
	for _, tc := range []struct {
		name       string
		cases      []CaseResult
		want       map[Profile]Result
		corePassed bool
	}{
		{"whole profile not supported", []CaseResult{notSupported("a", true), notSupported("b", false)},
			map[Profile]Result{ProfileServing: NotSupported}, true},
		{"extended failure does not fail the profile", []CaseResult{
			{Name: "a", Profile: ProfileServing, Core: true, Result: Succeeded},
			{Name: "b", Profile: ProfileServing, Result: Failed}},
			map[Profile]Result{ProfileServing: Succeeded}, true},
		{"core failure fails it", []CaseResult{
			{Name: "a", Profile: ProfileServing, Core: true, Result: Failed},
			notSupported("b", false)},
			map[Profile]Result{ProfileServing: Failed}, false},
		{"a skipped core case is not a pass", []CaseResult{{Name: "a", Profile: ProfileServing, Core: true, Result: Skipped}},
			map[Profile]Result{ProfileServing: Failed}, false},
		{"profiles without cases are left out", nil, map[Profile]Result{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Report{Profiles: []Profile{ProfileServing}, Cases: tc.cases}
			got := r.ProfileResults()
			if len(got) != len(tc.want) || got[ProfileServing] != tc.want[ProfileServing] {
				t.Errorf("ProfileResults() = %v, want %v", got, tc.want)
			}
			if r.CorePassed() != tc.corePassed {
				t.Errorf("CorePassed() = %t, want %t", r.CorePassed(), tc.corePassed)
			}
		})
	}
}

// A profile the implementation lacks is one line with the reason, not one per case.
func TestTableNotSupportedProfileOnce(t *testing.T) {
	r := &Report{Profiles: []Profile{ProfileServing}}
	for _, name := range []string{"a", "b", "c"} {
		r.Cases = append(r.Cases, CaseResult{Name: name, Profile: ProfileServing, Core: true, Result: NotSupported, Message: "the implementation does not support ServingApproval: why"})
	}
	var table bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(table.String(), "does not support ServingApproval"); got != 1 {
		t.Errorf("the reason appears %d times, want once:\n%s", got, table.String())
	}
	if !strings.Contains(table.String(), "profile serving: NOT_SUPPORTED: the implementation does not support") {
		t.Errorf("no profile line with the reason:\n%s", table.String())
	}
}

func TestBriefly(t *testing.T) {
	for in, want := range map[string]string{
		"":                                     "-",
		"Pending after 5s":                     "Pending after 5s",
		"Denied (AutoDenied: rule X)":          "Denied",
		"Refused by the API server: forbidden": "Refused by the API server",
		"Event ServingPolicyAudit: Would deny": "Event ServingPolicyAudit",
	} {
		if got := briefly(in); got != want {
			t.Errorf("briefly(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAddressIn(t *testing.T) {
	for _, prefix := range []netip.Prefix{servingIPv4Range, servingIPv6Range, servingAuditedRange, servingOutsideRange} {
		seen := map[netip.Addr]bool{}
		for i := range 200 {
			a := addressIn(prefix, fmt.Sprintf("node-%d", i))
			if !prefix.Contains(a) {
				t.Fatalf("addressIn(%s) = %s, outside the prefix", prefix, a)
			}
			seen[a] = true
		}
		if a, b := addressIn(prefix, "x"), addressIn(prefix, "x"); a != b {
			t.Errorf("addressIn(%s, x) is not stable: %s then %s", prefix, a, b)
		}
		if prefix.Bits() <= 16 && len(seen) < 200 {
			t.Errorf("addressIn(%s) gave %d distinct addresses for 200 seeds", prefix, len(seen))
		}
	}
	env := newEnvironment(&rest.Config{}, DefaultOptions())
	for _, p := range env.ServingAuditedIPPrefixes {
		if !slices.Contains(env.ServingAllowedIPPrefixes, p) {
			t.Errorf("audited prefix %s is not allowed: the audit case could never be approved", p)
		}
	}
	for _, p := range env.ServingAllowedIPPrefixes {
		if p.Overlaps(servingOutsideRange) {
			t.Errorf("allowed prefix %s overlaps the outside range %s", p, servingOutsideRange)
		}
	}
}

// The same case body under Run's recorder: Fatalf ends the case, cleanups still run
// (last registered first), and the result keeps every message.
func TestRecorderRunsCleanupsAfterFatal(t *testing.T) {
	rec := &recorder{}
	ct := &caseT{tb: rec}
	var order []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		ct.cleanup(func(context.Context) error { order = append(order, "first"); return nil })
		ct.cleanup(func(context.Context) error { order = append(order, "second"); return errors.New("left behind") })
		ct.Errorf("expected a; saw b")
		ct.Fatalf("expected c; saw d")
		order = append(order, "after Fatalf")
	}()
	<-done
	rec.runCleanups()
	if !slices.Equal(order, []string{"second", "first"}) {
		t.Errorf("ran %v, want [second first] and nothing after Fatalf", order)
	}
	res := ct.result(testCase{Name: "x", Profile: ProfileServing}, time.Second)
	if res.Result != Failed || res.Message != "expected a; saw b; expected c; saw d; cleanup: left behind" {
		t.Errorf("result %s %q", res.Result, res.Message)
	}
}

func TestLacking(t *testing.T) {
	r := &testRun{unsupported: unsupportedFeatures(Options{
		Implementation:      Implementation{Name: "kube-controller-manager"},
		UnsupportedFeatures: []Feature{FeatureCSRCleaner},
	})}
	for _, tc := range []struct {
		c    testCase
		want string
	}{
		{testCase{Profile: ProfileServing, Core: true}, "kube-controller-manager approves no kubelet-serving CSR"},
		{testCase{Profile: ProfileCleaner, Features: []Feature{FeatureCSRCleaner}}, "does not support CSRCleaner (declared)"},
		{testCase{Profile: ProfileApprover, Core: true}, ""},
	} {
		got := r.lacking(tc.c)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("lacking(%s case) = %q, want %q", tc.c.Profile, got, tc.want)
		}
	}
}
