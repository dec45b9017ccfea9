package outage_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/internal/faults"
)

// maxAfterReturn bounds how long after the component came back the agent may take to
// finish: the renewal backoff is capped at 32s (+10% jitter), plus a few seconds for the
// request itself.
const maxAfterReturn = 40 * time.Second

// report is what one scenario measured, written to the summary when it ends.
type report struct {
	name string // e.g. "API server stopped 20s mid-bootstrap"
	// finished is how long after the component came back the agent finished (0: never).
	finished  time.Duration
	component string
	details   []string
}

// write appends the scenario's line to the summary file and the test log; it reads
// t.Failed, so it runs deferred, after the scenario's checks.
func (r *report) write(t *testing.T) {
	var parts []string
	if r.finished > 0 {
		parts = append(parts, fmt.Sprintf("agent finished %.1fs after the %s returned", r.finished.Seconds(), r.component))
	}
	parts = append(parts, r.details...)
	faults.Report(t, r.name, strings.Join(parts, "; "))
}

// klogValue finds key="value" (or key=value) in a klog line.
func klogValue(line, key string) string {
	m := regexp.MustCompile(`\b` + regexp.QuoteMeta(key) + `="?([^" ]+)"?`).FindStringSubmatch(line)
	if m == nil {
		return ""
	}
	return m[1]
}
