package conformance

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Result is a case's outcome, as in the Gateway API's conformance reports.
type Result string

// The results a case can have.
const (
	// Succeeded: every check held.
	Succeeded Result = "SUCCEEDED"
	// Failed: a check did not hold; the message says what was expected and seen.
	Failed Result = "FAILED"
	// Skipped: the configuration lacks a prerequisite (no node command, no CA).
	Skipped Result = "SKIPPED"
	// NotSupported: the implementation lacks a feature the case or its profile needs,
	// declared in Options.UnsupportedFeatures or known of the implementation.
	NotSupported Result = "NOT_SUPPORTED"
)

// CaseResult is the outcome of one case.
type CaseResult struct {
	Name     string    `json:"name"`
	Profile  Profile   `json:"profile"`
	Core     bool      `json:"core"`
	Features []Feature `json:"features,omitempty"`
	Result   Result    `json:"result"`
	Message  string    `json:"message,omitempty"`
	// Observed says which of the allowed answers the implementation gave, where a case
	// allows more than one: a request that must not be approved may be "Denied (reason)",
	// "Pending" after the observation window, or "Refused" by the API server at create.
	Observed string        `json:"observed,omitempty"`
	Duration time.Duration `json:"duration"`
}

// FullName is "profile/name".
func (r CaseResult) FullName() string { return string(r.Profile) + "/" + r.Name }

// Run runs the chosen profiles and returns the report: the way to run the suite from a
// program. Cases run Options.Parallelism at a time. The error is for a
// run that could not start (bad configuration, unreachable server, a failed
// Options.Provision); failing cases are in the report.
func Run(ctx context.Context, opts Options) (*Report, error) {
	r, err := startRun(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer r.stop()
	// One pool for every profile: cases are independent, and most of a run is waiting.
	var g errgroup.Group
	g.SetLimit(r.opts.Parallelism)
	for slot := range r.cases {
		g.Go(func() error {
			rec := &recorder{}
			done := make(chan struct{})
			go func() {
				defer close(done)
				r.execute(ctx, rec, slot) // Fatalf and Skipf end this goroutine
			}()
			<-done
			rec.runCleanups()
			return nil
		})
	}
	_ = g.Wait() // cases report through their results, never an error
	return r.finish(), nil
}

// RunTests runs the chosen profiles under go test: one subtest per profile and, within
// it, one per case (TestX/serving/ipv6-approved), so -run selects cases and a failing
// case fails t with what was expected and seen. Cases of a profile run in parallel
// (t.Parallel, bounded by Options.Parallelism and -test.parallel). A run that cannot
// start fails t at once. It returns the report for the files or table a test may want.
//
// Another project's test, on the project's public test control plane:
//
//	cluster, err := clustertest.Start(clustertest.Options{})
//	...
//	conformance.RunTests(t, conformance.Options{
//		RESTConfig: cluster.Config,
//		Profiles:   []conformance.Profile{conformance.ProfileServing},
//		Provision: func(ctx context.Context, env conformance.Environment) (func(context.Context) error, error) {
//			// start the approver with env.RESTConfig, allowing env.ServingAllowedIPPrefixes
//			return stop, nil
//		},
//	})
//
// examples/controllerconformance is such a test, for the project's own controller.
func RunTests(t *testing.T, opts Options) *Report {
	t.Helper()
	ctx := t.Context()
	r, err := startRun(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.stop()
	sem := make(chan struct{}, r.opts.Parallelism)
	for _, p := range r.report.Profiles {
		t.Run(string(p), func(t *testing.T) {
			for _, slot := range r.slotsOf(p) {
				t.Run(r.cases[slot].Name, func(t *testing.T) {
					if r.opts.Parallelism > 1 {
						t.Parallel()
					}
					sem <- struct{}{}
					defer func() { <-sem }()
					r.execute(ctx, t, slot)
				})
			}
		})
	}
	return r.finish()
}

// testRun is one run of the suite: the chosen cases, the client, the provisioned
// implementation and the results as they come in.
type testRun struct {
	opts   Options
	rc     *rest.Config
	client kubernetes.Interface
	env    Environment
	id     string
	cases  []testCase
	// unsupported says why each feature the implementation lacks is lacking.
	unsupported map[Feature]string
	stopImpl    func(context.Context) error

	mu      sync.Mutex
	results []CaseResult
	report  *Report
}

// startRun checks the options, reaches the API server and provisions the implementation.
func startRun(ctx context.Context, opts Options) (*testRun, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	rc, err := opts.restConfig()
	if err != nil {
		return nil, err
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("conformance: building a client: %w", err)
	}
	version, err := client.Discovery().ServerVersion()
	if err != nil {
		return nil, fmt.Errorf("conformance: reaching the API server at %s: %w", rc.Host, err)
	}
	r := &testRun{opts: opts, rc: rc, client: client, env: newEnvironment(rc, opts), id: randomLabel(5),
		unsupported: unsupportedFeatures(opts)}
	r.report = &Report{
		Implementation:      opts.Implementation,
		Profiles:            chosenProfiles(opts),
		UnsupportedFeatures: sortedFeatures(r.unsupported),
		ServerVersion:       version.GitVersion,
		Started:             time.Now().UTC(),
	}
	for _, c := range newSuite().Cases {
		if opts.wantsProfile(c.Profile) && focused(opts.Focus, c.FullName()) {
			r.cases = append(r.cases, c)
		}
	}
	r.results = make([]CaseResult, len(r.cases))
	if opts.Provision != nil {
		stop, err := opts.Provision(ctx, r.env)
		if err != nil {
			return nil, fmt.Errorf("conformance: provisioning %s: %w", orUnknown(opts.Implementation.Name), err)
		}
		r.stopImpl = stop
	}
	return r, nil
}

// stop stops the provisioned implementation.
func (r *testRun) stop() {
	if r.stopImpl == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	if err := r.stopImpl(ctx); err != nil {
		r.mu.Lock()
		r.report.StopError = err.Error()
		r.mu.Unlock()
	}
}

// slotsOf lists the indexes of the chosen cases of profile p.
func (r *testRun) slotsOf(p Profile) []int {
	var slots []int
	for i, c := range r.cases {
		if c.Profile == p {
			slots = append(slots, i)
		}
	}
	return slots
}

// execute runs case slot on t and records its result once t's cleanups have run. The
// same body serves Run (t a recorder) and RunTests (t the subtest).
func (r *testRun) execute(ctx context.Context, t tb, slot int) {
	c := r.cases[slot]
	ct := &caseT{tb: t, Client: r.client, RESTConfig: r.rc, Options: r.opts, Env: r.env,
		prefix: fmt.Sprintf("conf-%s-%d", r.id, slot)}
	start := time.Now()
	// Registered first, so it runs after every cleanup the case registers.
	t.Cleanup(func() { r.record(slot, ct.result(c, time.Since(start))) })
	if why := r.lacking(c); why != "" {
		ct.notSupportedf("%s", why)
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.CaseTimeout)
	defer cancel()
	c.Run(ctx, ct)
}

// lacking says why the implementation cannot run c, or "" when it can.
func (r *testRun) lacking(c testCase) string {
	var why []string
	for _, f := range append(slices.Clone(profileFeatures[c.Profile]), c.Features...) {
		if reason, ok := r.unsupported[f]; ok {
			why = append(why, reason)
		}
	}
	return strings.Join(why, "; ")
}

func (r *testRun) record(slot int, res CaseResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results[slot] = res
	if r.opts.Progress != nil {
		r.opts.Progress(res)
	}
}

func (r *testRun) finish() *Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.report.Cases = slices.Clone(r.results)
	r.report.Duration = time.Since(r.report.Started)
	return r.report
}

// unsupportedFeatures joins the features declared unsupported with those known of the
// implementation, each with the reason the report gives.
func unsupportedFeatures(opts Options) map[Feature]string {
	out := map[Feature]string{}
	for _, f := range opts.UnsupportedFeatures {
		out[f] = fmt.Sprintf("the implementation does not support %s (declared)", f)
	}
	if known, ok := knownUnsupported[opts.Implementation.Name]; ok {
		for _, f := range known.features {
			out[f] = fmt.Sprintf("the implementation does not support %s: %s", f, known.why)
		}
	}
	return out
}

func sortedFeatures(m map[Feature]string) []Feature {
	var out []Feature
	for _, f := range Features() {
		if _, ok := m[f]; ok {
			out = append(out, f)
		}
	}
	return out
}

func focused(focus []string, name string) bool {
	if len(focus) == 0 {
		return true
	}
	for _, f := range focus {
		if strings.Contains(name, f) {
			return true
		}
	}
	return false
}

func chosenProfiles(cfg Options) []Profile {
	if len(cfg.Profiles) == 0 {
		return Profiles()
	}
	// In the suite's order, whatever order they were given in.
	var out []Profile
	for _, p := range Profiles() {
		if slices.Contains(cfg.Profiles, p) {
			out = append(out, p)
		}
	}
	return out
}

// randomLabel is n characters of [a-z0-9] from crypto/rand, so parallel runs on one
// cluster never share object names.
func randomLabel(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
