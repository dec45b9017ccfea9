package csr

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestEnded(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"denied", &DeniedError{Name: "a"}, true},
		{"failed, wrapped", fmt.Errorf("renewing: %w", &FailedError{Name: "a"}), true},
		{"deleted", &deletedError{Name: "a"}, true},
		{"replaced", &uidChangedError{Name: "a"}, true},
		{"incompatible", &IncompatibleError{Name: "a"}, true},
		{"still pending when the wait ran out", &WaitError{Name: "a", Err: context.DeadlineExceeded}, false},
		{"another error", errors.New("connection refused"), false},
	} {
		if got := Ended(tc.err); got != tc.want {
			t.Errorf("%s: Ended = %v, want %v", tc.name, got, tc.want)
		}
	}
}
