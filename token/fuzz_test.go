package token

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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

func FuzzReadTokenFile(f *testing.F) {
	for _, seed := range []string{
		"0123456789abcdef0123456789abcdef,kubelet-bootstrap,10001,\"system:kubelet-bootstrap\"\n",
		"t1,alice,1,\"g1,g2\"\nt2,bob,2\n",
		",empty,1\nt,dup,1\nt,dup,2\n",
		"t1,alice\n",
		"\"unterminated,a,b\n",
		"a,b,c,\"\"\"\",e\r\n\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tokens, warnings, err := ReadTokenFile(bytes.NewReader(data))
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, tok := range tokens {
			if tok.Token == "" || seen[tok.Token] {
				t.Fatalf("result holds an empty or repeated token: %v", tokens)
			}
			seen[tok.Token] = true
		}
		_ = warnings
		// What the writer accepts must read back identically.
		var buf bytes.Buffer
		if WriteTokenFile(&buf, tokens) != nil {
			return
		}
		again, _, err := ReadTokenFile(&buf)
		if err != nil {
			t.Fatalf("reading back what WriteTokenFile wrote: %v", err)
		}
		if diff := cmp.Diff(tokens, again); diff != "" {
			t.Fatalf("write/read round trip (-first +second):\n%s", diff)
		}
	})
}
