package token

import (
	"fmt"
	"strings"
	"testing"
)

func fmtAll(v any) string {
	return fmt.Sprintf("%v|%s|%+v|%#v|%q", v, v, v, v, v)
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"abcdef.0123456789abcdef", "", ".", "abcdef.", ".0123456789abcdef", "ABCDEF.0123456789abcdef",
		"abcdef.0123456789abcdeF", "abcdef..0123456789abcde", "abcdef.0123456789abcdé", "\x00\xff.\x80",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := Parse(s)
		if err != nil {
			if tok != (Token{}) {
				t.Fatalf("Parse returned %#v with an error", tok)
			}
			if _, secret, ok := strings.Cut(s, "."); ok && len(secret) >= 8 && strings.Contains(err.Error(), secret) {
				t.Fatalf("error %q repeats the secret", err)
			}
			return
		}
		if !tokenPattern.MatchString(s) {
			t.Fatalf("Parse accepted %q, which does not match the token pattern", s)
		}
		if tok.Reveal() != s {
			t.Fatalf("Reveal = %q, want %q", tok.Reveal(), s)
		}
		if strings.Contains(fmtAll(tok), tok.Secret) {
			t.Fatalf("printing leaks the secret")
		}
	})
}
