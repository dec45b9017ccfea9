package rotate

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"
)

// testPair makes a self-signed certificate and key as PEM, with serial.
func testPair(t testing.TB, serial int64) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "system:node:store", Organization: []string{"system:nodes"}},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// clockFrom returns a Now that advances one second a call, so file names differ.
// tickingClock moves one second forward each time it is read.
type tickingClock struct{ now time.Time }

func (c *tickingClock) Now() time.Time {
	c.now = c.now.Add(time.Second)
	return c.now
}

func (c *tickingClock) Since(t time.Time) time.Duration { return c.now.Sub(t) }

func clockFrom(start time.Time) *tickingClock { return &tickingClock{now: start} }

func TestStoreUpdateAndPrune(t *testing.T) {
	dir := t.TempDir()
	s, err := NewStore(dir, ClientPrefix, StoreOptions{Keep: 1, Clock: clockFrom(time.Unix(1e9, 0))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Current(); !errors.Is(err, ErrNoCertificate) {
		t.Fatalf("empty store: %v, want ErrNoCertificate", err)
	}
	for serial := int64(1); serial <= 4; serial++ {
		c, k := testPair(t, serial)
		if _, err := s.Update(c, k); err != nil {
			t.Fatal(err)
		}
		cur, err := s.Current()
		if err != nil {
			t.Fatal(err)
		}
		if cur.Leaf.SerialNumber.Int64() != serial {
			t.Fatalf("current serial %d, want %d", cur.Leaf.SerialNumber, serial)
		}
	}
	files, err := s.pairFiles()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Errorf("pair files %v, want the current one and 1 kept", files)
	}
	for _, f := range files {
		info, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", f, info.Mode().Perm())
		}
	}
	link, err := os.Readlink(s.CurrentPath())
	if err != nil {
		t.Fatalf("current is not a symlink: %v", err)
	}
	if link != files[len(files)-1] {
		t.Errorf("current -> %s, want the newest file %s", link, files[len(files)-1])
	}
}

func TestStoreRejectsMismatchedPair(t *testing.T) {
	s, err := NewStore(t.TempDir(), ClientPrefix, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c1, _ := testPair(t, 1)
	_, k2 := testPair(t, 2)
	for name, tc := range map[string][2][]byte{
		"key of another cert": {c1, k2},
		"no key":              {c1, nil},
		"garbage":             {[]byte("not pem"), []byte("nope")},
	} {
		if _, err := s.Update(tc[0], tc[1]); err == nil {
			t.Errorf("%s: stored, want an error", name)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(s.CurrentPath()))
	if len(entries) != 0 {
		t.Errorf("refused updates left files: %v", entries)
	}
}

// TestStoreCrashAtEveryStep interrupts an update at each step and checks that a fresh
// store (what a restarted node opens) always loads a valid pair: the old or the new one.
func TestStoreCrashAtEveryStep(t *testing.T) {
	steps := []string{"write", "link", "rename", "prune"}
	for _, crash := range steps {
		t.Run(crash, func(t *testing.T) {
			dir := t.TempDir()
			now := clockFrom(time.Unix(1e9, 0))
			s, err := NewStore(dir, ClientPrefix, StoreOptions{Clock: now})
			if err != nil {
				t.Fatal(err)
			}
			oldC, oldK := testPair(t, 1)
			if _, err := s.Update(oldC, oldK); err != nil {
				t.Fatal(err)
			}
			newC, newK := testPair(t, 2)
			crashAt = func(step string) error {
				if step == crash {
					return errors.New("crash at " + step)
				}
				return nil
			}
			_, err = s.Update(newC, newK)
			crashAt = nil
			if err == nil {
				t.Fatal("update did not stop at the injected crash")
			}
			reopened, err := NewStore(dir, ClientPrefix, StoreOptions{Clock: now})
			if err != nil {
				t.Fatalf("recovery: %v", err)
			}
			cur, err := reopened.Current()
			if err != nil {
				t.Fatalf("after a crash at %s no valid pair loads: %v", crash, err)
			}
			if got := cur.Leaf.SerialNumber.Int64(); got != 1 && got != 2 {
				t.Errorf("serial %d, want the old (1) or new (2) pair", got)
			}
			if _, err := os.Lstat(filepath.Join(dir, ClientPrefix+updatedSuffix)); err == nil {
				t.Errorf("recovery left %s%s behind", ClientPrefix, updatedSuffix)
			}
		})
	}
}

func TestStoreRecoversInterruptedSwap(t *testing.T) {
	dir := t.TempDir()
	now := clockFrom(time.Unix(1e9, 0))
	s, err := NewStore(dir, ClientPrefix, StoreOptions{Clock: now})
	if err != nil {
		t.Fatal(err)
	}
	c, k := testPair(t, 1)
	if _, err := s.Update(c, k); err != nil {
		t.Fatal(err)
	}
	// A newer pair written and linked as -updated, then a crash before the rename.
	c2, k2 := testPair(t, 2)
	name := ClientPrefix + "-2030-01-01-00-00-00.pem"
	if err := os.WriteFile(filepath.Join(dir, name), append(c2, k2...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(name, filepath.Join(dir, ClientPrefix+updatedSuffix)); err != nil {
		t.Fatal(err)
	}
	reopened, err := NewStore(dir, ClientPrefix, StoreOptions{Clock: now})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := reopened.Current()
	if err != nil {
		t.Fatal(err)
	}
	if cur.Leaf.SerialNumber.Int64() != 2 {
		t.Errorf("serial %d, want the interrupted update (2) finished", cur.Leaf.SerialNumber)
	}

	// A dangling current link with a valid older file: the file is chosen.
	if err := os.Remove(filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
	reopened, err = NewStore(dir, ClientPrefix, StoreOptions{Clock: now})
	if err != nil {
		t.Fatal(err)
	}
	if cur, err = reopened.Current(); err != nil || cur.Leaf.SerialNumber.Int64() != 1 {
		t.Fatalf("dangling current link not repaired: %v", err)
	}
}

// TestStoreUpdatesWithinOneSecond: updates in the same second get distinct files, so the
// current link moves and the replaced pair is kept.
func TestStoreUpdatesWithinOneSecond(t *testing.T) {
	fixed := time.Unix(1e9, 0)
	s, err := NewStore(t.TempDir(), ClientPrefix, StoreOptions{Keep: 5, Clock: testingclock.NewFakePassiveClock(fixed)})
	if err != nil {
		t.Fatal(err)
	}
	var links []string
	for serial := int64(1); serial <= 3; serial++ {
		c, k := testPair(t, serial)
		if _, err := s.Update(c, k); err != nil {
			t.Fatal(err)
		}
		link, err := os.Readlink(s.CurrentPath())
		if err != nil {
			t.Fatal(err)
		}
		links = append(links, link)
	}
	if links[0] == links[1] || links[1] == links[2] || links[0] == links[2] {
		t.Errorf("current link targets %v, want three distinct files", links)
	}
	files, _ := s.pairFiles()
	if len(files) != 3 || files[2] != links[2] {
		t.Errorf("pair files %v, want 3 with the newest (%s) last", files, links[2])
	}
}

// TestStoreCheckWritable: the probe leaves nothing behind, a probe left by a crash is
// removed when the store is opened, and a folder that is gone fails with its name.
func TestStoreCheckWritable(t *testing.T) {
	dir := t.TempDir()
	s, err := NewStore(dir, ClientPrefix, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CheckWritable(); err != nil {
		t.Fatalf("CheckWritable on a writable folder: %v", err)
	}
	stray := filepath.Join(dir, "."+ClientPrefix+"-probe-123.tmp")
	if err := os.WriteFile(stray, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewStore(dir, ClientPrefix, StoreOptions{}); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("folder holds %v after a probe and a reopen, want nothing", entries)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckWritable(); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("CheckWritable on a removed folder: %v, want an error naming %s", err, dir)
	}
}
