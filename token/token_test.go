package token

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"k8s.io/klog/v2/textlogger"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Token
		wantErr string // substring; empty means valid
	}{
		{name: "valid", in: "abcdef.0123456789abcdef", want: Token{ID: "abcdef", Secret: "0123456789abcdef"}},
		{name: "valid digits only", in: "012345.0123456789012345", want: Token{ID: "012345", Secret: "0123456789012345"}},
		{name: "empty", in: "", wantErr: "token is empty"},
		{name: "no separator", in: "abcdef0123456789abcdef", wantErr: `has no "."`},
		{name: "two separators", in: "abcdef.0123456789.abcdef", wantErr: `more than one "."`},
		{name: "id too short", in: "abcde.0123456789abcdef", wantErr: "token id must be 6 characters of [a-z0-9], got 5 characters"},
		{name: "id too long", in: "abcdefg.0123456789abcdef", wantErr: "token id must be 6 characters of [a-z0-9], got 7 characters"},
		{name: "id uppercase", in: "abCdef.0123456789abcdef", wantErr: "token id must be 6 characters of [a-z0-9], character 3 is not"},
		{name: "id empty", in: ".0123456789abcdef", wantErr: "got 0 characters"},
		{name: "secret too short", in: "abcdef.0123456789abcde", wantErr: "token secret must be 16 characters of [a-z0-9], got 15 characters"},
		{name: "secret too long", in: "abcdef.0123456789abcdefg", wantErr: "got 17 characters"},
		{name: "secret uppercase", in: "abcdef.0123456789ABCDEF", wantErr: "token secret must be 16 characters of [a-z0-9]"},
		{name: "secret with dash", in: "abcdef.0123456789abcde-", wantErr: "token secret must be 16 characters of [a-z0-9]"},
		{name: "secret with non-ASCII", in: "abcdef.0123456789abcdé", wantErr: "token secret"},
		{name: "surrounding space", in: " abcdef.0123456789abcdef", wantErr: "token id"},
		{name: "trailing newline", in: "abcdef.0123456789abcdef\n", wantErr: "token secret"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if got != tc.want {
					t.Fatalf("Parse = %#v, want %#v", got, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse succeeded with %v, want error containing %q", got, tc.wantErr)
			}
			if !errors.Is(err, ErrInvalidToken) {
				t.Errorf("error %v does not wrap ErrInvalidToken", err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			}
			if _, secret, ok := strings.Cut(tc.in, "."); ok && len(secret) > 3 && strings.Contains(err.Error(), secret) {
				t.Errorf("error %q repeats the secret", err)
			}
		})
	}
}

var tokenPattern = regexp.MustCompile(`\A[a-z0-9]{6}\.[a-z0-9]{16}\z`)

func TestGenerate(t *testing.T) {
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range 200 {
		tok, err := Generate()
		if err != nil {
			t.Fatal(err)
		}
		if !tokenPattern.MatchString(tok.Reveal()) {
			t.Fatalf("generated token does not match the pattern: len %d", len(tok.Reveal()))
		}
		if parsed, err := Parse(tok.Reveal()); err != nil || parsed != tok {
			t.Fatalf("generated token does not parse back: %v", err)
		}
		if seen[tok.ID] {
			t.Fatalf("id %s generated twice", tok.ID)
		}
		seen[tok.ID] = true
		for _, r := range tok.ID + tok.Secret {
			counts[r]++
		}
	}
	// 4400 draws over 36 symbols: every symbol shows up (expected ~122 each).
	if len(counts) != len(alphabet) {
		t.Errorf("only %d of %d symbols were drawn", len(counts), len(alphabet))
	}
}

func TestGenerateRejectsBiasedBytes(t *testing.T) {
	// 252..255 must be skipped, 36 -> '0', 71 -> 'z'.
	src := append(bytes.Repeat([]byte{255, 252, 36, 71}, 20), make([]byte, 100)...)
	tok, err := generateFrom(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if want := "0z0z0z.0z0z0z0z0z0z0z0z"; tok.Reveal() != want {
		t.Errorf("token = %s, want %s", tok.Reveal(), want)
	}
	if _, err := generateFrom(bytes.NewReader([]byte{1, 2})); err == nil {
		t.Error("a short random source did not fail")
	}
}

func TestTokenIsRedacted(t *testing.T) {
	tok := Token{ID: "abcdef", Secret: "0123456789abcdef"}
	type holder struct {
		Name  string
		Token Token
	}
	var jsonOut bytes.Buffer
	if err := json.NewEncoder(&jsonOut).Encode(holder{Name: "n", Token: tok}); err != nil {
		t.Fatal(err)
	}
	var slogOut, slogJSON, klogOut bytes.Buffer
	slog.New(slog.NewTextHandler(&slogOut, nil)).Info("msg", "token", tok)
	slog.New(slog.NewJSONHandler(&slogJSON, nil)).Info("msg", "token", tok)
	textlogger.NewLogger(textlogger.NewConfig(textlogger.Output(&klogOut))).Info("msg", "token", tok, "in a struct", holder{Token: tok})

	outputs := map[string]string{
		"String":    tok.String(),
		"%v":        fmt.Sprintf("%v", tok),
		"%s":        fmt.Sprintf("%s", tok),
		"%+v":       fmt.Sprintf("%+v", tok),
		"%#v":       fmt.Sprintf("%#v", tok),
		"%q":        fmt.Sprintf("%q", tok),
		"%x":        fmt.Sprintf("%x", tok),
		"struct":    fmt.Sprintf("%+v", holder{Token: tok}),
		"pointer":   fmt.Sprintf("%v", &tok),
		"json":      jsonOut.String(),
		"slog":      slogOut.String(),
		"slog json": slogJSON.String(),
		"klog":      klogOut.String(),
	}
	for name, out := range outputs {
		if strings.Contains(out, tok.Secret) {
			t.Errorf("%s leaks the secret: %s", name, out)
		}
		if !strings.Contains(out, "abcdef") {
			t.Errorf("%s lost the id: %s", name, out)
		}
	}
	if got, want := tok.String(), "abcdef.****************"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if got, want := tok.Reveal(), "abcdef.0123456789abcdef"; got != want {
		t.Errorf("Reveal = %q, want %q", got, want)
	}
}
