package atomicfile_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tlsbootstrap/tlsbootstrap/internal/atomicfile"
)

func TestWrite(t *testing.T) {
	tests := []struct {
		name     string
		existing string // "" = no file before
		oldMode  os.FileMode
		perm     os.FileMode
	}{
		{"new file", "", 0, 0o600},
		{"replaces a world-readable file", "old", 0o644, 0o600},
		{"other mode on request", "old", 0o600, 0o644},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "kubelet.conf")
			if tc.existing != "" {
				if err := os.WriteFile(path, []byte(tc.existing), tc.oldMode); err != nil {
					t.Fatal(err)
				}
			}
			if err := atomicfile.Write(path, []byte("new content"), tc.perm); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != "new content" {
				t.Fatalf("content %q, %v", got, err)
			}
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if info.Mode().Perm() != tc.perm {
				t.Errorf("mode %v, want %v", info.Mode().Perm(), tc.perm)
			}
			assertOnlyFiles(t, dir, "kubelet.conf")
		})
	}
}

// A failed write leaves the old file as it was and no temporary file behind.
func TestWriteFailureKeepsOriginal(t *testing.T) {
	t.Run("target is a folder", func(t *testing.T) {
		dir := t.TempDir()
		target := filepath.Join(dir, "kubelet.conf")
		if err := os.MkdirAll(filepath.Join(target, "inside"), 0o755); err != nil {
			t.Fatal(err)
		}
		err := atomicfile.Write(target, []byte("x"), 0o600)
		if err == nil || !strings.Contains(err.Error(), target) {
			t.Fatalf("got %v, want an error naming %s", err, target)
		}
		if _, err := os.Stat(filepath.Join(target, "inside")); err != nil {
			t.Fatalf("folder changed: %v", err)
		}
		assertOnlyFiles(t, dir, "kubelet.conf")
	})
	t.Run("missing folder", func(t *testing.T) {
		dir := t.TempDir()
		err := atomicfile.Write(filepath.Join(dir, "nope", "kubelet.conf"), []byte("x"), 0o600)
		if err == nil {
			t.Fatal("no error")
		}
		assertOnlyFiles(t, dir)
	})
	t.Run("unwritable folder", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root writes into read-only folders; see the file-size-limit case")
		}
		dir := t.TempDir()
		path := filepath.Join(dir, "kubelet.conf")
		if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(dir, 0o700)
		if err := atomicfile.Write(path, []byte("new"), 0o600); err == nil {
			t.Fatal("no error")
		}
		assertContent(t, path, "old")
		assertOnlyFiles(t, dir, "kubelet.conf")
	})
}

func assertOnlyFiles(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, want) {
		t.Fatalf("folder holds %q, want %q (a temporary file left behind?)", got, want)
	}
}

func assertContent(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil || string(got) != want {
		t.Fatalf("%s holds %q (%v), want %q", path, got, err, want)
	}
}
