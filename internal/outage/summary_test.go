package outage_test

import (
	"os"

	"github.com/tlsbootstrap/tlsbootstrap/internal/faults"
)

// summaryEnv names the file that receives one line per scenario (make reliability).
const summaryEnv = "OUTAGE_SUMMARY"

// addSummary appends one scenario's line (faults.Line) to the summary file, when set.
func addSummary(line string) error {
	if path := os.Getenv(summaryEnv); path != "" {
		return faults.Append(path, line)
	}
	return nil
}
