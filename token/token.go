package token

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tlsbootstrap/tlsbootstrap/internal/redact"
)

const (
	// idLength is the number of characters of a token id.
	idLength = 6
	// secretLength is the number of characters of a token secret.
	secretLength = 16
	// alphabet holds the 36 symbols a token is made of.
	alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
	// redactedSecret stands in for the secret whenever a Token is printed.
	redactedSecret = "****************"
)

// ErrInvalidToken is wrapped by every error Parse and parseID return, so callers can test
// for it with errors.Is. The messages never contain the token's secret.
var ErrInvalidToken = errors.New("invalid bootstrap token")

// Token is a bootstrap token, id.secret. The id is public (it names the Secret and the user
// system:bootstrap:<id>); the secret is a password. Printing a Token with fmt, klog, slog or
// encoding/json shows only the id and asterisks; call Reveal for the value to hand to a node.
type Token struct {
	// ID is 6 characters of [a-z0-9].
	ID string
	// Secret is 16 characters of [a-z0-9].
	Secret string
}

// Generate returns a new token whose 22 characters each come uniformly from crypto/rand
// over [a-z0-9].
func Generate() (Token, error) {
	return generateFrom(rand.Reader)
}

func generateFrom(r io.Reader) (Token, error) {
	s, err := randomString(r, idLength+secretLength)
	if err != nil {
		return Token{}, fmt.Errorf("generating bootstrap token: %w", err)
	}
	return Token{ID: s[:idLength], Secret: s[idLength:]}, nil
}

// randomString draws n symbols of alphabet from r without modulo bias: bytes of 252 or
// more (252 = 7*36) are thrown away.
func randomString(r io.Reader, n int) (string, error) {
	const limit = 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/4+4)
	for len(out) < n {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("reading random bytes: %w", err)
		}
		for _, b := range buf {
			if int(b) >= limit || len(out) == n {
				continue
			}
			out = append(out, alphabet[int(b)%len(alphabet)])
		}
	}
	return string(out), nil
}

// Parse reads "<id>.<secret>" and says precisely what is wrong when it is not a bootstrap
// token. The secret is checked without stopping at its first bad character, and no error
// repeats any part of the input.
func Parse(s string) (Token, error) {
	if s == "" {
		return Token{}, fmt.Errorf("%w: token is empty", ErrInvalidToken)
	}
	id, secret, found := strings.Cut(s, ".")
	if !found {
		return Token{}, fmt.Errorf("%w: token must have the form <id>.<secret> ([a-z0-9]{6}.[a-z0-9]{16}) but has no \".\"", ErrInvalidToken)
	}
	if strings.Contains(secret, ".") {
		return Token{}, fmt.Errorf("%w: token must have the form <id>.<secret> ([a-z0-9]{6}.[a-z0-9]{16}) but has more than one \".\"", ErrInvalidToken)
	}
	if err := parseID(id); err != nil {
		return Token{}, err
	}
	if err := checkSecret(secret); err != nil {
		return Token{}, err
	}
	return Token{ID: id, Secret: secret}, nil
}

// parseID checks that id is a bootstrap token id: 6 characters of [a-z0-9].
func parseID(id string) error {
	if len(id) != idLength {
		return fmt.Errorf("%w: token id must be %d characters of [a-z0-9], got %d characters", ErrInvalidToken, idLength, len(id))
	}
	if i := firstOutsideAlphabet(id); i >= 0 {
		return fmt.Errorf("%w: token id must be %d characters of [a-z0-9], character %d is not", ErrInvalidToken, idLength, i+1)
	}
	return nil
}

func checkSecret(secret string) error {
	if len(secret) != secretLength {
		return fmt.Errorf("%w: token secret must be %d characters of [a-z0-9], got %d characters", ErrInvalidToken, secretLength, len(secret))
	}
	// Visit every byte so the time taken does not say where the first bad one is.
	bad := 0
	for i := 0; i < len(secret); i++ {
		bad |= outsideAlphabet(secret[i])
	}
	if bad != 0 {
		return fmt.Errorf("%w: token secret must be %d characters of [a-z0-9]", ErrInvalidToken, secretLength)
	}
	return nil
}

// outsideAlphabet is 1 when c is not in [a-z0-9], computed without branches.
func outsideAlphabet(c byte) int {
	x := int(c)
	notDigit := ((x - '0') >> 31) | (('9' - x) >> 31)
	notLower := ((x - 'a') >> 31) | (('z' - x) >> 31)
	return notDigit & notLower & 1
}

func firstOutsideAlphabet(s string) int {
	for i := 0; i < len(s); i++ {
		if outsideAlphabet(s[i]) == 1 {
			return i
		}
	}
	return -1
}

// Reveal returns the real token, "<id>.<secret>": what goes into a bootstrap kubeconfig or
// an Authorization header. Never log it.
func (t Token) Reveal() string { return t.ID + "." + t.Secret }

// String prints the token redacted, "<id>.****************".
func (t Token) String() string { return t.ID + "." + redactedSecret }

// goString is %#v's form, redacted.
func (t Token) goString() string {
	return fmt.Sprintf("token.Token{ID:%q, Secret:%q}", t.ID, redactedSecret)
}

// Format redacts for every fmt verb (%v, %+v, %s, %q, ...), so a Token inside a struct
// printed with %+v does not leak either.
func (t Token) Format(f fmt.State, verb rune) { redact.Format(f, verb, t.String(), t.goString()) }

// MarshalJSON redacts: a Token serialized by accident (in a status or an event) must not
// carry its secret. Use Reveal to store the real value.
func (t Token) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, "%q", t.String()), nil
}

// IsZero reports whether t is the zero Token.
func (t Token) IsZero() bool { return t.ID == "" && t.Secret == "" }
