package redact

import (
	"fmt"
	"testing"
)

type secret struct{}

func (secret) Format(f fmt.State, verb rune) { Format(f, verb, "****", "secret{****}") }

func TestFormat(t *testing.T) {
	for _, tc := range []struct{ format, want string }{
		{"%v", "****"}, {"%s", "****"}, {"%+v", "****"}, {"%#v", "secret{****}"}, {"%q", `"****"`}, {"%x", "****"},
	} {
		if got := fmt.Sprintf(tc.format, secret{}); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.format, got, tc.want)
		}
	}
}
