package tokenctl

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/tlsbootstrap/tlsbootstrap/internal/tokenfile"
)

// StaticOptions describe the identity of a static token file line.
type StaticOptions struct {
	// User is the user name, e.g. kubelet-bootstrap. Required.
	User string
	// UID is the user's uid, e.g. 10001. Required.
	UID string
	// Groups are the user's groups, e.g. system:kubelet-bootstrap.
	Groups []string
}

// StaticLine prints one --token-auth-file line for opts with a new 128-bit token from
// crypto/rand as 32 hex characters, as the seed documents make it.
func StaticLine(out io.Writer, opts StaticOptions) error {
	if opts.User == "" {
		return errors.New("static: --user is required")
	}
	if opts.UID == "" {
		return errors.New("static: --uid is required")
	}
	value, err := tokenfile.Generate()
	if err != nil {
		return err
	}
	entry := tokenfile.Entry{Token: value, User: opts.User, UID: opts.UID, Groups: opts.Groups}
	if err := tokenfile.Validate(entry); err != nil {
		return fmt.Errorf("static: %w", err)
	}
	return tokenfile.Write(out, []tokenfile.Entry{entry})
}

// minStaticTokenLength is the length of a 128-bit token in hex: shorter tokens are weaker
// than the seed documents' recipe.
const minStaticTokenLength = 2 * tokenfile.TokenBytes

// CheckTokenFile reads the token file at path as the API server would and prints what it
// found: the warnings the server would log, entries a client could not use, tokens weaker
// than 128 bits and a file readable by others. It prints nothing and returns an error
// when the server would refuse the file. Tokens are never printed; entries are named by
// user.
func CheckTokenFile(out io.Writer, path string) error {
	tokens, warnings, err := tokenfile.Load(path)
	if err != nil {
		return err // it names the file and the line
	}
	problems := make([]string, 0, len(warnings))
	for _, w := range warnings {
		problems = append(problems, w.String())
	}
	for _, t := range tokens {
		if err := tokenfile.Validate(t); err != nil {
			problems = append(problems, fmt.Sprintf("user %q: %v", t.User, err))
		}
		if len(t.Token) < minStaticTokenLength {
			problems = append(problems, fmt.Sprintf("user %q: token has %d characters, fewer than the %d of a 128-bit hex token", t.User, len(t.Token), minStaticTokenLength))
		}
	}
	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
		problems = append(problems, fmt.Sprintf("mode %04o lets other users read the tokens; use 0600", info.Mode().Perm()))
	}
	for _, p := range problems {
		fmt.Fprintf(out, "warning: %s\n", p)
	}
	_, err = fmt.Fprintf(out, "%s: %d tokens, %d warnings\n", path, len(tokens), len(problems))
	return err
}
