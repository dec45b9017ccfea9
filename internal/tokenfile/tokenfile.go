package tokenfile

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"

	"github.com/tlsbootstrap/tlsbootstrap/internal/atomicfile"
)

// Warning is something the API server logs but accepts when it reads a token file.
type Warning struct {
	// Line is the line the record starts on (1-based).
	Line int
	// Record is the record number counted as the API server counts it (1-based).
	Record int
	// Message says what was found.
	Message string
}

// String is "line N: message".
func (w Warning) String() string {
	return fmt.Sprintf("line %d (record %d): %s", w.Line, w.Record, w.Message)
}

// Read parses a --token-auth-file with the API server's rules: CSV as read by
// encoding/csv (double quotes, no comments, no trimming), records of 3 or more columns
// token,user,uid[,groups] where groups is a comma list (quoted when it has several) and
// further columns are ignored. A record with fewer than 3 columns is an error naming its
// line and column count; a record with an empty token is skipped with a warning; when a
// token appears twice the last record wins, with a warning. Tokens come back in the order
// of their winning records.
func Read(r io.Reader) ([]Entry, []Warning, error) {
	reader := csv.NewReader(r)
	reader.FieldsPerRecord = -1
	var (
		entries  []Entry
		last     = map[string]int{} // token -> index in entries of its latest record
		warnings []Warning
		record   int
	)
	for {
		fields, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, warnings, fmt.Errorf("reading token file: %w", err)
		}
		line, _ := reader.FieldPos(0)
		if len(fields) < 3 {
			return nil, warnings, fmt.Errorf("token file line %d must have at least 3 columns (token, user name, user uid), found %d", line, len(fields))
		}
		record++
		if fields[0] == "" {
			warnings = append(warnings, Warning{Line: line, Record: record, Message: "empty token, record skipped"})
			continue
		}
		entry := Entry{Token: fields[0], User: fields[1], UID: fields[2]}
		if len(fields) >= 4 {
			// As the server does: split even an empty column, which yields the group "".
			entry.Groups = strings.Split(fields[3], ",")
		}
		if i, dup := last[entry.Token]; dup {
			warnings = append(warnings, Warning{Line: line, Record: record, Message: fmt.Sprintf("duplicate token (also for user %q), this record wins", entries[i].User)})
		}
		last[entry.Token] = len(entries)
		entries = append(entries, entry)
	}
	var tokens []Entry
	for i, e := range entries {
		if last[e.Token] == i {
			tokens = append(tokens, e)
		}
	}
	return tokens, warnings, nil
}

// Load reads the token file at path with Read.
func Load(path string) ([]Entry, []Warning, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("opening token file: %w", err)
	}
	defer f.Close()
	tokens, warnings, err := Read(f)
	if err != nil {
		return nil, warnings, fmt.Errorf("%s: %w", path, err)
	}
	return tokens, warnings, nil
}

// Validate rejects an entry the API server would read back differently or that
// cannot be sent as a bearer token: an empty token or user, a token with spaces, control
// characters, commas or quotes, and an empty group or one with a comma.
func Validate(t Entry) error {
	if t.Token == "" {
		return fmt.Errorf("static token for user %q is empty", t.User)
	}
	if i := strings.IndexFunc(t.Token, func(r rune) bool {
		return r > unicode.MaxASCII || !unicode.IsPrint(r) || unicode.IsSpace(r) || r == ',' || r == '"'
	}); i >= 0 {
		return fmt.Errorf("static token for user %q has a character at byte %d that cannot be sent in a bearer header or kept in a CSV column", t.User, i)
	}
	if t.User == "" {
		return fmt.Errorf("static token entry has an empty user name")
	}
	for _, g := range t.Groups {
		if g == "" || strings.Contains(g, ",") {
			return fmt.Errorf("static token for user %q: group %q must be non-empty and free of commas", t.User, g)
		}
	}
	return nil
}

// Write writes tokens in the --token-auth-file format, one record per token,
// quoting columns when needed (groups always become one column). It validates every entry
// and refuses duplicate tokens before writing anything.
func Write(w io.Writer, tokens []Entry) error {
	seen := make(map[string]bool, len(tokens))
	for i, t := range tokens {
		if err := Validate(t); err != nil {
			return fmt.Errorf("entry %d: %w", i+1, err)
		}
		if seen[t.Token] {
			return fmt.Errorf("entry %d (user %q) repeats the token of an earlier entry", i+1, t.User)
		}
		seen[t.Token] = true
	}
	cw := csv.NewWriter(w)
	for _, t := range tokens {
		record := []string{t.Token, t.User, t.UID}
		if len(t.Groups) > 0 {
			record = append(record, strings.Join(t.Groups, ","))
		}
		if err := cw.Write(record); err != nil {
			return fmt.Errorf("writing token file: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing token file: %w", err)
	}
	return nil
}

// Save writes tokens to path atomically with mode 0600: the file holds passwords.
func Save(path string, tokens []Entry) error {
	var buf bytes.Buffer
	if err := Write(&buf, tokens); err != nil {
		return err
	}
	if err := atomicfile.Write(path, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("saving token file: %w", err)
	}
	return nil
}
