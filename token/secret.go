package token

import (
	"fmt"

	"github.com/tlsbootstrap/tlsbootstrap/internal/redact"
)

// Secret is a bearer credential of any form: a bootstrap token's id.secret, a static
// token, a service account token. Like Token it never prints: %v, %+v, %#v, %s, %q,
// structured logs and JSON show "<redacted>"; Reveal gives the value. The zero Secret is
// empty.
type Secret struct{ value string }

const redacted = "<redacted>"

// NewSecret holds value as a Secret.
func NewSecret(value string) Secret { return Secret{value: value} }

// Bearer is the token as a bearer Secret, "<id>.<secret>".
func (t Token) Bearer() Secret { return Secret{value: t.Reveal()} }

// Reveal returns the credential: what goes into a kubeconfig or an Authorization header.
// Never log it.
func (s Secret) Reveal() string { return s.value }

// IsZero reports whether s holds nothing.
func (s Secret) IsZero() bool { return s.value == "" }

// String prints "<redacted>" (or "" for the zero Secret, so a missing one shows).
func (s Secret) String() string {
	if s.IsZero() {
		return ""
	}
	return redacted
}

// goString is %#v's form, redacted.
func (s Secret) goString() string { return fmt.Sprintf("token.Secret{%q}", s.String()) }

// Format redacts for every fmt verb, %#v included. Loggers print a Token through it,
// String or MarshalJSON: klog and zap use String, slog Format or MarshalJSON.
func (s Secret) Format(f fmt.State, verb rune) { redact.Format(f, verb, s.String(), s.goString()) }

// MarshalJSON redacts: use Reveal to store the real value.
func (s Secret) MarshalJSON() ([]byte, error) { return fmt.Appendf(nil, "%q", s.String()), nil }
