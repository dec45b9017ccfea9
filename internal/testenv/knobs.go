package testenv

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// EnvCount reads a test's size from the environment variable name (e.g. KILLS), def when
// unset; a value that is not a whole number of at least min fails the test.
func EnvCount(t testing.TB, name string, def, min int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min {
		t.Fatalf("%s=%q is not a number of at least %d", name, s, min)
	}
	return n
}

// LastLines returns the last n lines of a process's output, for a failure message.
func LastLines(out string, n int) []string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[max(0, len(lines)-n):]
}
