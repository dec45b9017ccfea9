package faults

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// SummaryEnv names the environment variable holding the path of the summary file.
const SummaryEnv = "FAULTS_SUMMARY"

// Line formats one scenario's result: "<scenario>: passed (<figure>)" or "failed".
func Line(scenario string, passed bool, figure string) string {
	verdict := "passed"
	if !passed {
		verdict = "FAILED"
	}
	line := scenario + ": " + verdict
	if figure = strings.TrimSpace(figure); figure != "" {
		line += " (" + figure + ")"
	}
	return strings.ReplaceAll(line, "\n", " ") + "\n"
}

// Append adds line to the file at path, creating it (mode 0644) when missing. Several test
// processes may append to the same file: each line is one write to a file opened with
// O_APPEND, so lines do not interleave.
func Append(path, line string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("faults summary: %w", err)
	}
	if _, err := f.WriteString(line); err != nil {
		_ = f.Close()
		return fmt.Errorf("faults summary: writing %s: %w", path, err)
	}
	return f.Close()
}

// Record registers, at the end of t (after its subtests), the scenario's summary line
// (Report) with the figure figure() returns then.
func Record(t testing.TB, scenario string, figure func() string) {
	t.Helper()
	t.Cleanup(func() { Report(t, scenario, figure()) })
}

// Report writes the scenario's summary line now: passed unless t has failed, with figure.
// The line is logged, and appended to the file named by $FAULTS_SUMMARY when it is set.
// Call it last, after the scenario's checks.
func Report(t testing.TB, scenario, figure string) {
	t.Helper()
	line := Line(scenario, !t.Failed(), figure)
	t.Log(strings.TrimSpace(line))
	if path := os.Getenv(SummaryEnv); path != "" {
		if err := Append(path, line); err != nil {
			t.Errorf("%v", err)
		}
	}
}
