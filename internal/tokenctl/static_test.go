package tokenctl_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tlsbootstrap/tlsbootstrap/internal/tokenctl"
	"github.com/tlsbootstrap/tlsbootstrap/internal/tokenfile"
)

var hex128 = regexp.MustCompile(`\A[0-9a-f]{32}\z`)

// TestStaticLineAuthenticates: the line printed in TestMain is the API server's
// --token-auth-file, and its token logs in as the identity asked for.
func TestStaticLineAuthenticates(t *testing.T) {
	entries, warnings, err := tokenfile.Read(strings.NewReader(staticLine))
	if err != nil || len(warnings) > 0 || len(entries) != 1 {
		t.Fatalf("static line %q reads back as %v, %v, %v", staticLine, entries, warnings, err)
	}
	user, err := whoAmI(t, cp.TokenConfig(entries[0].Token))
	if err != nil {
		t.Fatalf("the static token does not authenticate: %v", err)
	}
	if user.Username != staticIdentity.User || user.UID != staticIdentity.UID || !slices.Contains(user.Groups, "system:kubelet-bootstrap") {
		t.Errorf("authenticates as %q uid %q %v, want %+v", user.Username, user.UID, user.Groups, staticIdentity)
	}
}

func TestStaticLine(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    tokenctl.StaticOptions
		wantErr string
	}{
		{"seed documents", tokenctl.StaticOptions{User: "kubelet-bootstrap", UID: "10001", Groups: []string{"system:kubelet-bootstrap"}}, ""},
		{"no groups", tokenctl.StaticOptions{User: "u", UID: "1"}, ""},
		{"two groups are quoted", tokenctl.StaticOptions{User: "u", UID: "1", Groups: []string{"g1", "g2"}}, ""},
		{"no user", tokenctl.StaticOptions{UID: "1"}, "--user is required"},
		{"no uid", tokenctl.StaticOptions{User: "u"}, "--uid is required"},
		{"empty group", tokenctl.StaticOptions{User: "u", UID: "1", Groups: []string{""}}, "group"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := tokenctl.StaticLine(&out, tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Count(out.String(), "\n") != 1 {
				t.Errorf("printed %q, want one line", out.String())
			}
			entries, _, err := tokenfile.Read(&out)
			if err != nil || len(entries) != 1 {
				t.Fatalf("line reads back as %v, %v", entries, err)
			}
			if !hex128.MatchString(entries[0].Token) {
				t.Errorf("token is not 128 bits of hex: %d characters", len(entries[0].Token))
			}
			got := tokenctl.StaticOptions{User: entries[0].User, UID: entries[0].UID, Groups: entries[0].Groups}
			if diff := cmp.Diff(tc.opts, got); diff != "" {
				t.Errorf("identity read back (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStaticLinesDiffer(t *testing.T) {
	var a, b bytes.Buffer
	if err := tokenctl.StaticLine(&a, staticIdentity); err != nil {
		t.Fatal(err)
	}
	if err := tokenctl.StaticLine(&b, staticIdentity); err != nil {
		t.Fatal(err)
	}
	if a.String() == b.String() {
		t.Errorf("two static lines are identical: the token is not random")
	}
}

func TestCheckTokenFile(t *testing.T) {
	const good = "0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		name     string
		content  string
		mode     os.FileMode
		want     []string // substrings of the output
		warnings int
		wantErr  string
	}{
		{"clean", good + ",kubelet-bootstrap,10001,system:kubelet-bootstrap\n", 0o600,
			[]string{"1 tokens, 0 warnings"}, 0, ""},
		{"duplicate token", good + ",a,1\n" + good + ",b,2\n", 0o600,
			[]string{"line 2", "1 tokens, 1 warnings"}, 1, ""},
		{"empty token", ",a,1\n" + good + ",b,2\n", 0o600,
			[]string{"line 1", "1 tokens, 1 warnings"}, 1, ""},
		{"short token", "abc,a,1\n", 0o600,
			[]string{`user "a": token has 3 characters`}, 1, ""},
		{"token with a space", "ab cd" + good + ",a,1\n", 0o600,
			[]string{`user "a"`}, 1, ""},
		{"readable by others", good + ",a,1\n", 0o644,
			[]string{"mode 0644"}, 1, ""},
		{"two columns", good + ",a\n", 0o600, nil, 0, "2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tokens.csv")
			if err := os.WriteFile(path, []byte(tc.content), tc.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tc.mode); err != nil { // umask may have masked bits
				t.Fatal(err)
			}
			var out bytes.Buffer
			err := tokenctl.CheckTokenFile(&out, path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), path) {
					t.Fatalf("error %v, want one naming %s and containing %q", err, path, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if got := strings.Count(out.String(), "warning: "); got != tc.warnings {
				t.Errorf("%d warning lines, want %d:\n%s", got, tc.warnings, out.String())
			}
			if strings.Contains(out.String(), good) {
				t.Errorf("the check printed a token:\n%s", out.String())
			}
		})
	}
}

func TestStaticCommand(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(bad, []byte("only,two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		args    []string
		wantOut string
		wantErr string
	}{
		{"line", []string{"--user=kubelet-bootstrap", "--uid=10001", "--groups=system:kubelet-bootstrap"}, ",kubelet-bootstrap,10001,system:kubelet-bootstrap\n", ""},
		{"check a broken file", []string{"--check=" + bad}, "", bad + ": token file line 1 must have at least 3 columns"},
		{"check a missing file", []string{"--check=/nonexistent/tokens.csv"}, "", "no such file"},
		{"check with identity flags", []string{"--check=" + bad, "--user=u"}, "", "--check does not go with"},
		{"no flags", nil, "", "--user is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := run(t, append([]string{"static"}, tc.args...)...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !strings.HasSuffix(out, tc.wantOut) || !hex128.MatchString(strings.SplitN(out, ",", 2)[0]) {
				t.Errorf("static printed %q (%v), want a 128-bit hex token then %q", out, err, tc.wantOut)
			}
		})
	}
}
