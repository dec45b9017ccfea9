package discovery_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tlsbootstrap/tlsbootstrap/discovery"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// The vector of k8s.io/cluster-bootstrap's own JWS test (token/jws).
const (
	vectorContent = "Hello from the other side. I must have called a thousand times."
	vectorID      = "joshua"
	vectorSecret  = "my voice is my passcode"
)

func TestSignVectors(t *testing.T) {
	tests := []struct {
		name, content, secret, want string
	}{
		{"reference vector", vectorContent, vectorSecret, "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..VShe2taLd-YTrmWuRkcL_8QTNDHYxQIEBsAYYiIj1_8"},
		{"empty content", "", vectorSecret, "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..7Ui1ALizW4jXphVUB7xUqC9vLYLL9RZeOFfVLoB7Tgk"},
		{"empty secret", vectorContent, "", "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..UfkqvDGiIFxrMnFseDj9LYJOLNrvjW8aHhF71mvvAs8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := token.Token{ID: vectorID, Secret: tt.secret}
			got, err := discovery.Sign([]byte(tt.content), tok)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Sign = %s, want %s", got, tt.want)
			}
			if err := discovery.Verify(got, []byte(tt.content), tok); err != nil {
				t.Errorf("Verify of its own signature: %v", err)
			}
		})
	}
}

func TestSignRejectsEmptyID(t *testing.T) {
	if _, err := discovery.Sign([]byte("x"), token.Token{Secret: "s"}); err == nil {
		t.Fatal("Sign with an empty token id succeeded")
	}
}

func TestVerify(t *testing.T) {
	good := "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..VShe2taLd-YTrmWuRkcL_8QTNDHYxQIEBsAYYiIj1_8"
	header, mac, _ := strings.Cut(good, "..")
	tok := token.Token{ID: vectorID, Secret: vectorSecret}
	tests := []struct {
		name      string
		signature string
		content   string
		tok       token.Token
		wantErr   string // "" for success; otherwise a part of the message
	}{
		{"valid", good, vectorContent, tok, ""},
		{"tampered content", good, vectorContent + " ", tok, "does not match"},
		{"wrong secret", good, vectorContent, token.Token{ID: vectorID, Secret: "not my passcode"}, "does not match"},
		{"other token id", good, vectorContent, token.Token{ID: "abcdef", Secret: vectorSecret}, `made for token id "joshua", not "abcdef"`},
		{"trailing garbage", good + "foo", vectorContent, tok, "does not match"},
		{"attached form", header + ".Zm9v." + mac, vectorContent, tok, "detached form"},
		{"no header", ".." + mac, vectorContent, tok, "detached form"},
		{"empty", "", vectorContent, tok, "detached form"},
		{"header not base64", "!!!.." + mac, vectorContent, tok, "not base64url"},
		{"header not JSON", "bm90IGpzb24.." + mac, vectorContent, tok, "not JSON"},
		// {"alg":"none","kid":"joshua"}
		{"alg none", "eyJhbGciOiJub25lIiwia2lkIjoiam9zaHVhIn0..", vectorContent, tok, `algorithm "none"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := discovery.Verify(tt.signature, []byte(tt.content), tt.tok)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Verify succeeded")
			}
			if !errors.Is(err, discovery.ErrBadSignature) {
				t.Errorf("error %v does not wrap ErrBadSignature", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not say %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), tt.tok.Secret) {
				t.Errorf("error %q reveals the token secret", err)
			}
		})
	}
}
