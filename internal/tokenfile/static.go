package tokenfile

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/tlsbootstrap/tlsbootstrap/internal/redact"
)

// TokenBytes is the entropy of a generated static token: 128 bits.
const TokenBytes = 16

// Entry is one line of a --token-auth-file: a bearer token and the identity it
// authenticates as. Printing it with fmt, klog or slog hides the token.
type Entry struct {
	// Token is the bearer token.
	Token string
	// User is the user name.
	User string
	// UID is the user's uid.
	UID string
	// Groups are the user's groups (system:authenticated is added by the server).
	Groups []string
}

// Generate returns a 128-bit static token from crypto/rand as 32 hex characters, the
// way the seed documents make one (head -c 16 /dev/urandom | od -An -t x | tr -d ' ').
func Generate() (string, error) {
	return generateFrom(rand.Reader)
}

func generateFrom(r io.Reader) (string, error) {
	b := make([]byte, TokenBytes)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("generating static token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// String prints the entry with the token redacted.
func (s Entry) String() string {
	return fmt.Sprintf("****,%s,%s,%q", s.User, s.UID, strings.Join(s.Groups, ","))
}

// goString is %#v's form, redacted.
func (s Entry) goString() string {
	return fmt.Sprintf("tokenfile.Entry{Token:\"****\", User:%q, UID:%q, Groups:%#v}", s.User, s.UID, s.Groups)
}

// Format redacts for every fmt verb, %#v included. Loggers print a Token through it,
// String or MarshalJSON: klog and zap use String, slog Format or MarshalJSON.
func (s Entry) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, s.String(), s.goString())
}

// MarshalJSON redacts the token: an entry serialized by accident must not carry it.
func (s Entry) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Token, User, UID string
		Groups           []string
	}{"****", s.User, s.UID, s.Groups})
}
