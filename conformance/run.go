package conformance

import (
	"sync"

	"context"
	"crypto/rand"
	"fmt"
	"golang.org/x/sync/errgroup"
	"slices"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
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
	// NotSupported: the implementation declared a feature the case needs unsupported.
	NotSupported Result = "NOT_SUPPORTED"
)

// CaseResult is the outcome of one case.
type CaseResult struct {
	Name     string        `json:"name"`
	Profile  Profile       `json:"profile"`
	Core     bool          `json:"core"`
	Features []Feature     `json:"features,omitempty"`
	Result   Result        `json:"result"`
	Message  string        `json:"message,omitempty"`
	Duration time.Duration `json:"duration"`
}

// FullName is "profile/name".
func (r CaseResult) FullName() string { return string(r.Profile) + "/" + r.Name }

// Run runs the full suite (new_) with cfg.
func Run(ctx context.Context, cfg Options) (*Report, error) {
	return newSuite().Run(ctx, cfg)
}

// Run runs the cases of the chosen profiles one after another and returns the report.
// The error is for a run that could not start (bad configuration, unreachable server);
// failing cases are in the report.
func (s *caseSuite) Run(ctx context.Context, cfg Options) (*Report, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	rc, err := cfg.restConfig()
	if err != nil {
		return nil, err
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("conformance: building a client: %w", err)
	}
	if _, err := client.Discovery().ServerVersion(); err != nil {
		return nil, fmt.Errorf("conformance: reaching the API server at %s: %w", rc.Host, err)
	}
	runID := randomLabel(5)
	report := &Report{
		Implementation:      cfg.Implementation,
		Profiles:            chosenProfiles(cfg),
		UnsupportedFeatures: cfg.UnsupportedFeatures,
		Started:             time.Now().UTC(),
	}
	var chosen []int
	for i, c := range s.Cases {
		if cfg.wantsProfile(c.Profile) && focused(cfg.Focus, c.FullName()) {
			chosen = append(chosen, i)
		}
	}
	results := make([]CaseResult, len(chosen))
	var progress sync.Mutex
	var g errgroup.Group
	g.SetLimit(cfg.Parallelism)
	for slot, i := range chosen {
		g.Go(func() error {
			t := &caseT{Client: client, RESTConfig: rc, Options: cfg, prefix: fmt.Sprintf("conf-%s-%d", runID, i)}
			results[slot] = runCase(ctx, s.Cases[i], t)
			if cfg.Progress != nil {
				progress.Lock()
				cfg.Progress(results[slot])
				progress.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait() // cases report through their results, never an error
	report.Cases = results
	report.Duration = time.Since(report.Started)
	return report, nil
}

func runCase(ctx context.Context, c testCase, t *caseT) CaseResult {
	res := CaseResult{Name: c.Name, Profile: c.Profile, Core: c.Core, Features: c.Features}
	if missing := unsupported(c.Features, t.Options.UnsupportedFeatures); len(missing) > 0 {
		res.Result = NotSupported
		res.Message = "the implementation does not support " + strings.Join(missing, ", ")
		return res
	}
	start := time.Now()
	caseCtx, cancel := context.WithTimeout(ctx, t.Options.CaseTimeout)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(caseCtx, t) // Fatalf and Skipf end this goroutine through runtime.Goexit
	}()
	<-done
	cancel()
	t.runCleanups(30 * time.Second)
	res.Duration = time.Since(start)
	switch msg := t.failures(); {
	case msg != "":
		res.Result, res.Message = Failed, msg
	case t.skipped != "":
		res.Result, res.Message = Skipped, t.skipped
	default:
		res.Result = Succeeded
	}
	return res
}

func unsupported(needed, lacking []Feature) []string {
	var out []string
	for _, f := range needed {
		if slices.Contains(lacking, f) {
			out = append(out, string(f))
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
	return slices.Clone(cfg.Profiles)
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
