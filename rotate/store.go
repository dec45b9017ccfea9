package rotate

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/internal/atomicfile"
	"k8s.io/utils/clock"
)

// Prefixes of the kubelet's cert-dir files.
const (
	ClientPrefix  = "kubelet-client"
	ServingPrefix = "kubelet-server"
)

// Suffixes and layout of the store's files: <prefix>-<timestamp>.pem holds the certificate
// then the key; <prefix>-current.pem links to the one in use; <prefix>-updated.pem is the
// link being swapped in.
const (
	currentSuffix   = "-current.pem"
	updatedSuffix   = "-updated.pem"
	timestampFormat = "2006-01-02-15-04-05"
)

// crashAt, when set by tests, is called before each step of an update; an error stops the
// update there, as a crash would.
var crashAt func(step string) error

func step(name string) error {
	if crashAt != nil {
		return crashAt(name)
	}
	return nil
}

// ErrNoCertificate is returned by Store.Current when the store holds no usable pair.
var ErrNoCertificate = errors.New("no certificate in the store")

// StoreOptions configure a Store.
type StoreOptions struct {
	// Keep is how many superseded pair files to keep besides the current one. Default 2.
	Keep int
	// KeepAll keeps every superseded pair file, whatever Keep says.
	KeepAll bool
	// Clock names new files by the time. Default the real clock.
	Clock clock.PassiveClock
}

// Store keeps the certificate a Manager rotates: the current pair, and replacing it. Its
// shape is client-go's certificate.Store, so implementations of that fit. A Store that
// also has CheckWritable() error is asked before each request, so no certificate is
// requested that could not be kept.
type Store interface {
	Current() (*tls.Certificate, error)
	Update(certPEM, keyPEM []byte) (*tls.Certificate, error)
}

// FileStore is the kubelet's cert-dir layout for one prefix. Every update writes a complete
// new pair file first and only then swaps the current link with a rename, so at every
// instant the link points at a complete, matching certificate and key; a crash leaves the
// old pair or the new one, never neither. NewStore finishes or discards an interrupted swap.
type FileStore struct {
	dir, prefix string
	keep        int
	keepAll     bool
	clock       clock.PassiveClock
}

// NewStore opens (creating with mode 0700 when missing) dir for prefix and recovers from an
// interrupted update.
func NewStore(dir, prefix string, opts StoreOptions) (*FileStore, error) {
	if dir == "" || prefix == "" {
		return nil, errors.New("cert store: dir and prefix are required")
	}
	if strings.ContainsRune(prefix, filepath.Separator) {
		return nil, fmt.Errorf("cert store: prefix %q must not contain a path separator", prefix)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cert store: creating %s: %w", dir, err)
	}
	s := &FileStore{dir: dir, prefix: prefix, keep: opts.Keep, keepAll: opts.KeepAll, clock: opts.Clock}
	if s.keep <= 0 {
		s.keep = 2
	}
	if s.clock == nil {
		s.clock = clock.RealClock{}
	}
	if err := s.recover(); err != nil {
		return nil, err
	}
	return s, nil
}

// CurrentPath is <dir>/<prefix>-current.pem, what kubeconfigs point at.
func (s *FileStore) CurrentPath() string { return filepath.Join(s.dir, s.prefix+currentSuffix) }

func (s *FileStore) updatedPath() string { return filepath.Join(s.dir, s.prefix+updatedSuffix) }

// Current loads the pair the current link points at. It returns ErrNoCertificate (wrapped)
// when there is none, and an error naming the file when it is unreadable or does not match.
func (s *FileStore) Current() (*tls.Certificate, error) {
	path := s.CurrentPath()
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist", ErrNoCertificate, path)
	}
	if err != nil {
		return nil, fmt.Errorf("cert store: reading %s: %w", path, err)
	}
	cert, err := ParsePair(data)
	if err != nil {
		return nil, fmt.Errorf("cert store: %s: %w", path, err)
	}
	return cert, nil
}

// ParsePair parses a PEM file holding a certificate chain and its private key, and checks
// that they match. Leaf is set.
func ParsePair(data []byte) (*tls.Certificate, error) {
	var certs, keys bytes.Buffer
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type == "CERTIFICATE" {
			_ = pem.Encode(&certs, block)
		} else if strings.HasSuffix(block.Type, "PRIVATE KEY") {
			_ = pem.Encode(&keys, block)
		}
	}
	if certs.Len() == 0 {
		return nil, errors.New("no CERTIFICATE block")
	}
	if keys.Len() == 0 {
		return nil, errors.New("no PRIVATE KEY block")
	}
	pair, err := tls.X509KeyPair(certs.Bytes(), keys.Bytes())
	if err != nil {
		return nil, fmt.Errorf("certificate and key do not form a pair: %w", err)
	}
	if pair.Leaf == nil {
		if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return nil, err
		}
	}
	return &pair, nil
}

// Update stores a new pair (PEM certificate chain and PEM key) and makes it current. The
// pair is checked before anything is written.
func (s *FileStore) Update(certPEM, keyPEM []byte) (*tls.Certificate, error) {
	data := make([]byte, 0, len(certPEM)+len(keyPEM)+1)
	data = append(data, bytes.TrimRight(certPEM, "\n")...)
	data = append(data, '\n')
	data = append(data, keyPEM...)
	pair, err := ParsePair(data)
	if err != nil {
		return nil, fmt.Errorf("cert store: refusing to store: %w", err)
	}
	name := s.newName()
	if err := step("write"); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(filepath.Join(s.dir, name), data, 0o600); err != nil {
		return nil, fmt.Errorf("cert store: %w", err)
	}
	if err := s.swap(name); err != nil {
		return nil, err
	}
	if err := step("prune"); err != nil {
		return nil, err
	}
	s.prune(name)
	return pair, nil
}

// probeSize is written by CheckWritable: more than a pair file (an RSA-4096 chain and key
// are about 5 KiB), so that a file system with room for the probe has room for the pair.
const probeSize = 16 << 10

// CheckWritable writes, syncs and removes a probe file of a pair file's size in the
// store's folder. The rotation manager calls it before it requests a certificate, so that
// a read-only or full cert dir fails the attempt before a CSR is made and a certificate is
// issued only to be thrown away.
func (s *FileStore) CheckWritable() error {
	f, err := os.CreateTemp(s.dir, "."+s.prefix+"-probe-*.tmp")
	if err != nil {
		return fmt.Errorf("cert store: %s is not writable: %w", s.dir, err)
	}
	name := f.Name()
	_, err = f.Write(make([]byte, probeSize))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if rerr := os.Remove(name); err == nil && rerr != nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("cert store: %s has no room for a new pair or is not writable (probe %s): %w", s.dir, name, err)
	}
	return nil
}

// newName is <prefix>-<now>.pem, moved on by seconds while that name is taken (two
// updates within a second), so an update never overwrites the pair it replaces.
func (s *FileStore) newName() string {
	t := s.clock.Now().UTC()
	for {
		name := s.prefix + "-" + t.Format(timestampFormat) + ".pem"
		if _, err := os.Lstat(filepath.Join(s.dir, name)); errors.Is(err, fs.ErrNotExist) {
			return name
		}
		t = t.Add(time.Second)
	}
}

// swap points the current link at name: a fresh -updated link is made and renamed over
// -current, which replaces it atomically.
func (s *FileStore) swap(name string) error {
	updated := s.updatedPath()
	if err := os.Remove(updated); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cert store: removing stale %s: %w", updated, err)
	}
	if err := step("link"); err != nil {
		return err
	}
	if err := os.Symlink(name, updated); err != nil {
		return fmt.Errorf("cert store: linking %s: %w", updated, err)
	}
	if err := step("rename"); err != nil {
		return err
	}
	if err := os.Rename(updated, s.CurrentPath()); err != nil {
		return fmt.Errorf("cert store: replacing %s: %w", s.CurrentPath(), err)
	}
	return syncDir(s.dir)
}

// recover finishes a swap interrupted after the -updated link was made, or discards it when
// it does not point at a valid pair; it then repairs a current link that points nowhere
// valid by choosing the newest valid pair file.
func (s *FileStore) recover() error {
	// Probes of a CheckWritable interrupted by a crash.
	probes, _ := filepath.Glob(filepath.Join(s.dir, "."+s.prefix+"-probe-*.tmp"))
	for _, p := range probes {
		_ = os.Remove(p)
	}
	updated := s.updatedPath()
	if target, err := os.Readlink(updated); err == nil {
		if s.validPairFile(target) {
			if err := os.Rename(updated, s.CurrentPath()); err != nil {
				return fmt.Errorf("cert store: finishing interrupted update: %w", err)
			}
		} else if err := os.Remove(updated); err != nil {
			return fmt.Errorf("cert store: removing broken %s: %w", updated, err)
		}
	}
	if _, err := s.Current(); err == nil {
		return nil
	}
	files, err := s.pairFiles()
	if err != nil {
		return err
	}
	for i := len(files) - 1; i >= 0; i-- {
		if s.validPairFile(files[i]) {
			return s.swap(files[i])
		}
	}
	// No valid pair at all: a dangling link is worse than none.
	if info, err := os.Lstat(s.CurrentPath()); err == nil && info.Mode()&fs.ModeSymlink != 0 {
		if err := os.Remove(s.CurrentPath()); err != nil {
			return fmt.Errorf("cert store: removing dangling %s: %w", s.CurrentPath(), err)
		}
	}
	return nil
}

func (s *FileStore) validPairFile(name string) bool {
	if filepath.IsAbs(name) || filepath.Base(name) != name {
		return false
	}
	data, err := os.ReadFile(filepath.Join(s.dir, name))
	if err != nil {
		return false
	}
	_, err = ParsePair(data)
	return err == nil
}

// pairFiles lists <prefix>-<timestamp>.pem names, oldest first.
func (s *FileStore) pairFiles() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("cert store: listing %s: %w", s.dir, err)
	}
	var names []string
	for _, e := range entries {
		name := e.Name()
		stamp, ok := strings.CutPrefix(name, s.prefix+"-")
		if !ok || !e.Type().IsRegular() {
			continue
		}
		stamp, ok = strings.CutSuffix(stamp, ".pem")
		if !ok {
			continue
		}
		if _, err := time.Parse(timestampFormat, stamp); err != nil {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names) // the timestamp format sorts chronologically
	return names, nil
}

// prune removes superseded pair files beyond Keep; failures only leave extra files.
func (s *FileStore) prune(current string) {
	if s.keepAll {
		return
	}
	files, err := s.pairFiles()
	if err != nil {
		return
	}
	var old []string
	for _, f := range files {
		if f != current {
			old = append(old, f)
		}
	}
	for len(old) > s.keep {
		_ = os.Remove(filepath.Join(s.dir, old[0]))
		old = old[1:]
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("cert store: opening %s to sync: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("cert store: syncing %s: %w", dir, err)
	}
	return nil
}
