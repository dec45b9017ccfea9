package rotate_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func init() { newFaultyCertDir = faultyCertDirLinux }

// faultyCertDirLinux puts the cert dir on a tmpfs of its own (256 KiB) mounted for t, so
// the faults are real: a remount read-only (EROFS), a filler file taking all the space
// (ENOSPC). Where mounting is not permitted it falls back to mode 0500 on the cert dir
// (EACCES; not for root, whom modes do not stop) and to RLIMIT_FSIZE (EFBIG), or skips.
func faultyCertDirLinux(t *testing.T, kind string) (string, certDirFault) {
	t.Helper()
	if kind != faultReadOnly && kind != faultFull {
		t.Fatalf("unknown cert-dir fault %q", kind)
	}
	root := filepath.Join(t.TempDir(), "fs")
	if err := os.Mkdir(root, 0o700); err != nil {
		t.Fatal(err)
	}
	certDir := filepath.Join(root, "pki")
	err := syscall.Mount("tmpfs", root, "tmpfs", 0, "size=256k,mode=0700")
	if err == nil {
		t.Cleanup(func() { unmount(t, root) })
		if kind == faultReadOnly {
			return certDir, tmpfsReadOnly(root)
		}
		return certDir, tmpfsFull(root)
	}
	if !errors.Is(err, syscall.EPERM) && !errors.Is(err, syscall.EACCES) {
		t.Fatalf("mounting a tmpfs at %s: %v", root, err)
	}
	t.Logf("cannot mount a tmpfs at %s (%v): falling back", root, err)
	if kind == faultFull {
		return certDir, fileSizeLimit(t)
	}
	if os.Geteuid() == 0 {
		t.Skipf("cert dir read-only: cannot mount a tmpfs (%v), and a mode of 0500 does not stop root's writes", err)
	}
	return certDir, modeReadOnly(t, certDir)
}

func unmount(t *testing.T, dir string) {
	if err := syscall.Unmount(dir, 0); err != nil {
		if derr := syscall.Unmount(dir, syscall.MNT_DETACH); derr != nil {
			t.Errorf("unmounting the tmpfs at %s: %v; lazily: %v", dir, err, derr)
		}
	}
}

func tmpfsReadOnly(root string) certDirFault {
	return certDirFault{
		how:    "tmpfs remounted read-only",
		cause:  syscall.EROFS,
		inject: func() error { return syscall.Mount("", root, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, "") },
		repair: func() error { return syscall.Mount("", root, "", syscall.MS_REMOUNT, "") },
	}
}

// tmpfsFull fills the tmpfs with a file beside the cert dir, until a write fails ENOSPC.
func tmpfsFull(root string) certDirFault {
	filler := filepath.Join(root, "filler")
	return certDirFault{
		how:   "tmpfs filled up",
		cause: syscall.ENOSPC,
		inject: func() error {
			f, err := os.Create(filler)
			if err != nil {
				return err
			}
			chunk := make([]byte, 64<<10)
			for err == nil {
				_, err = f.Write(chunk)
			}
			if cerr := f.Close(); !errors.Is(err, syscall.ENOSPC) || cerr != nil {
				return fmt.Errorf("filling %s: %v, %v; want ENOSPC", filler, err, cerr)
			}
			return nil
		},
		repair: func() error { return os.Remove(filler) },
	}
}

// fileSizeLimit lowers the process's file-size limit below a pair file's size: writes
// beyond it fail EFBIG (Go ignores the SIGXFSZ). Process-wide, so kept short.
func fileSizeLimit(t *testing.T) certDirFault {
	var saved syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &saved); err != nil {
		t.Fatal(err)
	}
	restore := func() error { return syscall.Setrlimit(syscall.RLIMIT_FSIZE, &saved) }
	t.Cleanup(func() { _ = restore() })
	return certDirFault{
		how:   "RLIMIT_FSIZE of 512 bytes",
		cause: syscall.EFBIG,
		inject: func() error {
			limit := saved
			limit.Cur = 512 // a pair file (certificate and ECDSA key) is over 1 KiB
			return syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limit)
		},
		repair: restore,
	}
}

// modeReadOnly takes the write permission off the cert dir (for non-root only).
func modeReadOnly(t *testing.T, certDir string) certDirFault {
	t.Cleanup(func() { _ = os.Chmod(certDir, 0o700) })
	return certDirFault{
		how:    "cert dir mode 0500",
		cause:  syscall.EACCES,
		inject: func() error { return os.Chmod(certDir, 0o500) },
		repair: func() error { return os.Chmod(certDir, 0o700) },
	}
}
