package discovery

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"k8s.io/cluster-bootstrap/token/jws"

	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// ErrBadSignature is wrapped by every error Verify returns: the signature is malformed,
// was made for another token id or does not match the content and token secret.
var ErrBadSignature = errors.New("bad cluster-info signature")

// signJWS computes the detached JWS (RFC 7515 Appendix F) the bootstrap signer stores for
// tok: HS256 keyed by the token secret, protected header {"alg":"HS256","kid":"<id>"},
// serialized as "<header>..<signature>". The token's format is not checked, so any id and
// secret can be signed with (the id must not be empty).
func signJWS(content []byte, tok token.Token) (string, error) {
	if tok.ID == "" {
		return "", errors.New("signing cluster-info: token id is empty")
	}
	sig, err := jws.ComputeDetachedSignature(string(content), tok.ID, tok.Secret)
	if err != nil {
		// The library's message does not contain the secret; say which token failed.
		return "", fmt.Errorf("signing cluster-info with token %s: %w", tok.ID, err)
	}
	return sig, nil
}

// Verify checks that signature is the detached JWS of content for tok, comparing in
// constant time. Errors wrap ErrBadSignature and say what is wrong without revealing the
// token secret.
func Verify(signature string, content []byte, tok token.Token) error {
	header, _, ok := strings.Cut(signature, "..")
	if !ok || header == "" {
		return fmt.Errorf("%w: want the detached form <header>..<signature>", ErrBadSignature)
	}
	if err := checkHeader(header, tok.ID); err != nil {
		return err
	}
	want, err := signJWS(content, tok)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(signature)) != 1 {
		return fmt.Errorf("%w: it does not match the content for token id %s (wrong token secret, or the content was changed)", ErrBadSignature, tok.ID)
	}
	return nil
}

// checkHeader decodes the protected header to name a wrong algorithm or key id precisely.
func checkHeader(encoded, id string) error {
	raw, err := base64.RawURLEncoding.DecodeString(encoded)
	if err != nil {
		return fmt.Errorf("%w: header is not base64url: %v", ErrBadSignature, err)
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return fmt.Errorf("%w: header is not JSON: %v", ErrBadSignature, err)
	}
	if h.Alg != "HS256" {
		return fmt.Errorf("%w: algorithm %q, want HS256", ErrBadSignature, h.Alg)
	}
	if h.Kid != id {
		return fmt.Errorf("%w: made for token id %q, not %q", ErrBadSignature, h.Kid, id)
	}
	return nil
}
