package tokenfile_test

import (
	"fmt"
	"strings"

	"github.com/tlsbootstrap/tlsbootstrap/internal/tokenfile"
)

func ExampleRead() {
	file := `0123456789abcdef0123456789abcdef,kubelet-bootstrap,10001,"system:kubelet-bootstrap,extra"
,nobody,2
`
	tokens, warnings, err := tokenfile.Read(strings.NewReader(file))
	if err != nil {
		panic(err)
	}
	for _, t := range tokens {
		fmt.Println(t) // the token itself is redacted
	}
	for _, w := range warnings {
		fmt.Println("warning:", w)
	}
	// Output:
	// ****,kubelet-bootstrap,10001,"system:kubelet-bootstrap,extra"
	// warning: line 2 (record 2): empty token, record skipped
}
