package faults

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestLine(t *testing.T) {
	for _, tc := range []struct {
		scenario, figure string
		passed           bool
		want             string
	}{
		{"clock skew", "4 offsets", true, "clock skew: passed (4 offsets)\n"},
		{"CA replaced", "", false, "CA replaced: FAILED\n"},
		{"cert-dir full", "two\nlines ", true, "cert-dir full: passed (two lines)\n"},
	} {
		if got := Line(tc.scenario, tc.passed, tc.figure); got != tc.want {
			t.Errorf("Line(%q, %v, %q) = %q, want %q", tc.scenario, tc.passed, tc.figure, got, tc.want)
		}
	}
}

func TestAppendFromManyWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "summary.txt")
	const n = 50
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := Append(path, Line("scenario", true, "figure")); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := ""
	for range n {
		want += "scenario: passed (figure)\n"
	}
	if string(data) != want {
		t.Errorf("file holds %q, want %d whole lines", data, n)
	}
	if err := Append(filepath.Join(path, "not-a-dir", "x"), "x\n"); err == nil {
		t.Error("appending under a regular file succeeded")
	}
}

func TestRecordWritesOnCleanup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "summary.txt")
	t.Setenv(SummaryEnv, path)
	t.Run("inner", func(t *testing.T) {
		Record(t, "inner scenario", func() string { return "3 cases" })
	})
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(data), "inner scenario: passed (3 cases)\n"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
}
