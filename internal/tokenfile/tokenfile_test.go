package tokenfile

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadTokenFile(t *testing.T) {
	tests := []struct {
		name         string
		in           string
		want         []Entry
		wantWarnings []Warning
		wantErr      string
	}{
		{
			name: "seed document line",
			in:   "02b50b05283e98dd0fd71db496ef01e8,kubelet-bootstrap,10001,\"system:kubelet-bootstrap\"\n",
			want: []Entry{{Token: "02b50b05283e98dd0fd71db496ef01e8", User: "kubelet-bootstrap", UID: "10001", Groups: []string{"system:kubelet-bootstrap"}}},
		},
		{
			name: "quoted groups, three columns, extra columns ignored",
			in:   "t1,alice,1,\"g1,g2\"\nt2,bob,2\nt3,carol,3,g3,ignored,also ignored\n",
			want: []Entry{
				{Token: "t1", User: "alice", UID: "1", Groups: []string{"g1", "g2"}},
				{Token: "t2", User: "bob", UID: "2"},
				{Token: "t3", User: "carol", UID: "3", Groups: []string{"g3"}},
			},
		},
		{
			name: "empty fourth column is one empty group, as the server reads it",
			in:   "t1,alice,1,\n",
			want: []Entry{{Token: "t1", User: "alice", UID: "1", Groups: []string{""}}},
		},
		{
			name: "blank lines skipped, spaces kept, CRLF accepted",
			in:   "\n t1,alice ,1\r\n\n",
			want: []Entry{{Token: " t1", User: "alice ", UID: "1"}},
		},
		{
			name:         "empty token skipped with a warning",
			in:           "t1,alice,1\n,bob,2\nt3,carol,3\n",
			want:         []Entry{{Token: "t1", User: "alice", UID: "1"}, {Token: "t3", User: "carol", UID: "3"}},
			wantWarnings: []Warning{{Line: 2, Record: 2, Message: "empty token, record skipped"}},
		},
		{
			name: "duplicate token: last wins, with a warning",
			in:   "t1,alice,1\nt2,bob,2\nt1,mallory,3,evil\n",
			want: []Entry{
				{Token: "t2", User: "bob", UID: "2"},
				{Token: "t1", User: "mallory", UID: "3", Groups: []string{"evil"}},
			},
			wantWarnings: []Warning{{Line: 3, Record: 3, Message: `duplicate token (also for user "alice"), this record wins`}},
		},
		{
			name:    "quoted field spanning lines: the line is where the record starts",
			in:      "t1,alice,1,\"g1,\ng2\"\nt2,bob\n",
			wantErr: "token file line 3 must have at least 3 columns (token, user name, user uid), found 2",
		},
		{
			name:    "fewer than three columns",
			in:      "t1,alice,1\nt2,bob\n",
			wantErr: "token file line 2 must have at least 3 columns (token, user name, user uid), found 2",
		},
		{
			name:    "bare quote is a CSV error",
			in:      "t1,al\"ice,1\n",
			wantErr: "reading token file",
		},
		{name: "empty file", in: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, warnings, err := Read(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("tokens (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantWarnings, warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteTokenFileRoundTrip(t *testing.T) {
	static, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	tokens := []Entry{
		{Token: static, User: "kubelet-bootstrap", UID: "10001", Groups: []string{"system:bootstrappers"}},
		{Token: "tok-2", User: "user, with comma", UID: "", Groups: []string{"a", "b c", `q"uote`}},
		{Token: "tok-3", User: " leading space", UID: "3"},
	}
	var buf bytes.Buffer
	if err := Write(&buf, tokens); err != nil {
		t.Fatal(err)
	}
	got, warnings, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %v", warnings)
	}
	if diff := cmp.Diff(tokens, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestWriteTokenFileRejects(t *testing.T) {
	tests := []struct {
		name    string
		tokens  []Entry
		wantErr string
	}{
		{"empty token", []Entry{{User: "u"}}, "is empty"},
		{"token with space", []Entry{{Token: "a b", User: "u"}}, "character at byte 1"},
		{"token with comma", []Entry{{Token: "a,b", User: "u"}}, "character at byte 1"},
		{"token with newline", []Entry{{Token: "ab\n", User: "u"}}, "character at byte 2"},
		{"empty user", []Entry{{Token: "t"}}, "empty user name"},
		{"empty group", []Entry{{Token: "t", User: "u", Groups: []string{""}}}, "group \"\""},
		{"group with comma", []Entry{{Token: "t", User: "u", Groups: []string{"a,b"}}}, "free of commas"},
		{"duplicate", []Entry{{Token: "t", User: "u"}, {Token: "t", User: "v"}}, "entry 2 (user \"v\") repeats"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, tc.tokens)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes despite the error", buf.Len())
			}
		})
	}
}

func TestSaveTokenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.csv")
	tokens := []Entry{{Token: "0123456789abcdef0123456789abcdef", User: "u", UID: "1"}}
	if err := Save(path, tokens); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("mode = %o, want 600", mode)
	}
	got, _, err := Load(path)
	if err != nil || !cmp.Equal(tokens, got) {
		t.Errorf("Load = %v, %v", got, err)
	}
	// A failed save leaves the old file and no temporary files.
	if err := Save(path, []Entry{{User: "broken"}}); err == nil {
		t.Fatal("saving an invalid entry succeeded")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries after a failed save, want 1", len(entries))
	}
	if got, _, err := Load(path); err != nil || !cmp.Equal(tokens, got) {
		t.Errorf("old file damaged: %v, %v", got, err)
	}
	if _, _, err := Load(filepath.Join(t.TempDir(), "missing.csv")); err == nil {
		t.Error("loading a missing file succeeded")
	}
}

func TestGenerateStatic(t *testing.T) {
	a, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate()
	if len(a) != 32 || strings.Trim(a, "0123456789abcdef") != "" {
		t.Errorf("static token %d characters, not all hex", len(a))
	}
	if a == b {
		t.Error("two static tokens are equal")
	}
	if _, err := generateFrom(strings.NewReader("short")); err == nil {
		t.Error("a short random source did not fail")
	}
	st := Entry{Token: a, User: "u", UID: "1", Groups: []string{"g"}}
	for _, out := range []string{st.String(), fmtAll(st)} {
		if strings.Contains(out, a) {
			t.Errorf("Entry printing leaks the token: %s", out)
		}
	}
}
