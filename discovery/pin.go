package discovery

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// pinPrefix is the hash type of a CA pin; the only one kubeadm supports.
const pinPrefix = "sha256:"

// ErrPinMismatch is matched (errors.Is) by a *PinMismatchError.
var ErrPinMismatch = errors.New("cluster CA does not match any pinned public key")

// Pin is the pin of cert as `kubeadm join --discovery-token-ca-cert-hash` takes it:
// "sha256:" and the lower-case hex SHA-256 of the certificate's SubjectPublicKeyInfo.
func Pin(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return pinPrefix + hex.EncodeToString(sum[:])
}

// parsePin checks one pin and returns it normalized to lower case. The "sha256:" prefix
// and the 64 hex digits may be in any case.
func parsePin(s string) (string, error) {
	typ, value, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return "", fmt.Errorf("CA pin %q: want %s<64 hex digits>", s, pinPrefix)
	}
	if !strings.EqualFold(typ+":", pinPrefix) {
		return "", fmt.Errorf("CA pin %q: unsupported hash type %q, want %s<64 hex digits>", s, typ, pinPrefix)
	}
	if len(value) != hex.EncodedLen(sha256.Size) {
		return "", fmt.Errorf("CA pin %q: want %d hex digits after %s, got %d characters", s, hex.EncodedLen(sha256.Size), pinPrefix, len(value))
	}
	if _, err := hex.DecodeString(value); err != nil {
		return "", fmt.Errorf("CA pin %q: not hexadecimal: %v", s, err)
	}
	return pinPrefix + strings.ToLower(value), nil
}

// Pins is a set of allowed CA pins.
type Pins struct {
	pins []string // normalized, sorted, unique
}

// ParsePins parses every pin (see parsePin); an invalid one is an error naming it. No pins
// gives an empty set, which Check always rejects.
func ParsePins(pins []string) (*Pins, error) {
	p := &Pins{}
	for _, s := range pins {
		norm, err := parsePin(s)
		if err != nil {
			return nil, err
		}
		p.pins = append(p.pins, norm)
	}
	slices.Sort(p.pins)
	p.pins = slices.Compact(p.pins)
	return p, nil
}

// Len is the number of distinct pins.
func (p *Pins) Len() int { return len(p.pins) }

// list returns the normalized pins, sorted.
func (p *Pins) list() []string { return slices.Clone(p.pins) }

// Check succeeds when any of certs (the CA bundle of cluster-info) has an allowed pin, as
// kubeadm checks; otherwise it returns a *PinMismatchError listing both sides.
func (p *Pins) Check(certs ...*x509.Certificate) error {
	actual := make([]string, 0, len(certs))
	for _, c := range certs {
		pin := Pin(c)
		if slices.Contains(p.pins, pin) {
			return nil
		}
		actual = append(actual, pin)
	}
	return &PinMismatchError{Expected: p.list(), Actual: actual}
}

// PinMismatchError says which pins were expected and which the CA certificates have.
type PinMismatchError struct {
	// Expected are the allowed pins, normalized.
	Expected []string
	// Actual are the pins of the CA certificates checked.
	Actual []string
}

// Error names both lists, so an operator can see which pin to fix.
func (e *PinMismatchError) Error() string {
	if len(e.Actual) == 0 {
		return fmt.Sprintf("%v: no CA certificate to check (expected one of %s)", ErrPinMismatch, strings.Join(e.Expected, ", "))
	}
	return fmt.Sprintf("%v: expected one of [%s], the cluster CA has [%s]", ErrPinMismatch, strings.Join(e.Expected, ", "), strings.Join(e.Actual, ", "))
}

// Is makes errors.Is(err, ErrPinMismatch) true.
func (e *PinMismatchError) Is(target error) bool { return target == ErrPinMismatch }
