package testenv

import (
	"slices"
	"testing"
)

func TestLastLines(t *testing.T) {
	for _, tc := range []struct {
		out  string
		n    int
		want []string
	}{
		{"a\nb\nc\n", 2, []string{"b", "c"}},
		{"a\nb", 5, []string{"a", "b"}},
		{"", 3, []string{""}},
	} {
		if got := LastLines(tc.out, tc.n); !slices.Equal(got, tc.want) {
			t.Errorf("LastLines(%q, %d) = %q, want %q", tc.out, tc.n, got, tc.want)
		}
	}
}

func TestEnvCount(t *testing.T) {
	t.Setenv("TESTENV_COUNT", "")
	if got := EnvCount(t, "TESTENV_COUNT", 7, 1); got != 7 {
		t.Errorf("unset: %d, want the default 7", got)
	}
	t.Setenv("TESTENV_COUNT", "12")
	if got := EnvCount(t, "TESTENV_COUNT", 7, 10); got != 12 {
		t.Errorf("12: got %d", got)
	}
}
