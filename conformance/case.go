package conformance

import "context"

// testCase is one check of the suite. Core cases define conformance of their profile;
// extended ones check a feature (Features) that an implementation may lack. Every case
// also needs its profile's features (profileFeatures).
type testCase struct {
	// Name is unique within the profile, e.g. "nodeclient-approved".
	Name string
	// Profile the case belongs to.
	Profile Profile
	// Description says what is checked, in one sentence.
	Description string
	// Core cases must pass for an implementation of the profile to conform.
	Core bool
	// Features the case needs; any listed as unsupported makes it NOT_SUPPORTED.
	Features []Feature
	// Run performs the check. It reports through t and must leave nothing behind that
	// it did not register with t.Cleanup.
	Run func(ctx context.Context, t *caseT)
}

// FullName is "profile/name".
func (c testCase) FullName() string { return string(c.Profile) + "/" + c.Name }

// caseSuite is a list of cases. The zero caseSuite runs nothing; newSuite returns the full one.
type caseSuite struct {
	Cases []testCase
}

// newSuite returns the suite with every case, in profile order.
func newSuite() *caseSuite {
	var cases []testCase
	cases = append(cases, clusterSetupCases()...)
	cases = append(cases, approverCases()...)
	cases = append(cases, servingCases()...)
	cases = append(cases, signerCases()...)
	cases = append(cases, nodeCases()...)
	cases = append(cases, cleanerCases()...)
	return &caseSuite{Cases: cases}
}
