// Package redact prints values that hold secrets (bootstrap tokens, static tokens) in
// their redacted forms, for every fmt verb.
package redact

import (
	"fmt"
	"io"
)

// Format writes a secret-holding value's redacted forms for fmt.Formatter: goString for
// %#v, str quoted for %q, str for every other verb.
func Format(f fmt.State, verb rune, str, goString string) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = io.WriteString(f, goString)
	case verb == 'q':
		_, _ = fmt.Fprintf(f, "%q", str)
	default:
		_, _ = io.WriteString(f, str)
	}
}
