package tokenfile

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func FuzzRead(f *testing.F) {
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
		tokens, warnings, err := Read(bytes.NewReader(data))
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
		if Write(&buf, tokens) != nil {
			return
		}
		again, _, err := Read(&buf)
		if err != nil {
			t.Fatalf("reading back what Write wrote: %v", err)
		}
		if diff := cmp.Diff(tokens, again); diff != "" {
			t.Fatalf("write/read round trip (-first +second):\n%s", diff)
		}
	})
}

func fmtAll(v any) string {
	return fmt.Sprintf("%v|%s|%+v|%#v|%q", v, v, v, v, v)
}
