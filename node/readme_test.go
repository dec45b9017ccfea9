package node_test

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEShowsTheExample: the README's SDK section is Example's body, word for word,
// so the code a user copies compiles.
func TestREADMEShowsTheExample(t *testing.T) {
	src, err := os.ReadFile("example_sdk_test.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	start := strings.Index(s, "func Example() {\n")
	end := strings.LastIndex(s, "\n}")
	if start < 0 || end < start {
		t.Fatal("no func Example in example_sdk_test.go")
	}
	var body []string
	for _, line := range strings.Split(s[start+len("func Example() {\n"):end], "\n") {
		body = append(body, strings.TrimPrefix(line, "\t"))
	}
	want := "```go\n" + strings.Trim(strings.Join(body, "\n"), "\n") + "\n```"
	if !strings.Contains(string(readme), want) {
		t.Errorf("README.md does not show node.Example's body; put this in its SDK section:\n%s", want)
	}
}
