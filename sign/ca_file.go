package sign

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// CAProvider supplies the CA to sign with. Current is called for every certificate, so an
// implementation may swap CAs at any time (key rotation, reloaded files).
type CAProvider interface {
	Current() (*CA, error)
}

// FileCAOptions configure NewFileCA. The zero value is usable.
type FileCAOptions struct {
	// CheckInterval is the least time between two looks at the files. Default 10s.
	CheckInterval time.Duration
	// Clock tells the time the CA's validity is judged at. Default the real clock.
	Clock clock.PassiveClock
}

// FileCA is a CAProvider over a certificate file and a key file (the
// --cluster-signing-cert-file/--cluster-signing-key-file pair). On access, at most once per
// CheckInterval, it compares the files' size and modification time and, when they changed,
// re-reads them. A reload that fails (a half-rotated pair, a bad file) keeps the previous CA,
// is logged, and is retried at the next check; ReloadError reports it meanwhile.
type FileCA struct {
	certFile, keyFile string
	interval          time.Duration
	now               func() time.Time
	logger            klog.Logger

	mu        sync.Mutex
	ca        *CA
	certPEM   []byte
	keyPEM    []byte
	stamp     fileStamp
	lastCheck time.Time
	reloadErr error
}

type fileStamp struct {
	certSize, keySize int64
	certMod, keyMod   time.Time
}

// NewFileCA loads the CA from certFile and keyFile and returns a provider that reloads it
// when the files change, logging reloads and failed reloads to ctx's logger. It fails when
// the first load fails.
func NewFileCA(ctx context.Context, certFile, keyFile string, opts FileCAOptions) (*FileCA, error) {
	f := &FileCA{certFile: certFile, keyFile: keyFile, interval: opts.CheckInterval, logger: klog.FromContext(ctx)}
	if f.interval <= 0 {
		f.interval = 10 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	f.now = opts.Clock.Now
	stamp, err := f.statFiles()
	if err != nil {
		return nil, err
	}
	if err := f.load(stamp); err != nil {
		return nil, err
	}
	f.lastCheck = f.now()
	return f, nil
}

// Current returns the CA, reloading it first when the files changed since the last check.
func (f *FileCA) Current() (*CA, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if now := f.now(); now.Sub(f.lastCheck) >= f.interval {
		f.lastCheck = now
		f.check()
	}
	return f.ca, nil
}

// ReloadError is the error of the last reload attempt, nil once a reload succeeds.
func (f *FileCA) reloadError() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reloadErr
}

func (f *FileCA) check() {
	stamp, err := f.statFiles()
	if err == nil && stamp == f.stamp {
		return
	}
	if err == nil {
		err = f.load(stamp)
	}
	if err != nil {
		f.reloadErr = err
		f.logger.Error(err, "Keeping the previous signing CA: reloading it failed", "certFile", f.certFile, "keyFile", f.keyFile)
		return
	}
	f.reloadErr = nil
}

// load reads both files; the stamp is stored only on success so a failed reload is retried.
func (f *FileCA) load(stamp fileStamp) error {
	certPEM, err := os.ReadFile(f.certFile)
	if err != nil {
		return fmt.Errorf("reading CA certificate file: %w", err)
	}
	keyPEM, err := os.ReadFile(f.keyFile)
	if err != nil {
		return fmt.Errorf("reading CA key file: %w", err)
	}
	if f.ca != nil && bytes.Equal(certPEM, f.certPEM) && bytes.Equal(keyPEM, f.keyPEM) {
		f.stamp = stamp // touched, not changed
		return nil
	}
	ca, err := parseCA(certPEM, keyPEM, fmt.Sprintf("CA certificate file %q", f.certFile), fmt.Sprintf("CA key file %q", f.keyFile))
	if err != nil {
		return err
	}
	if f.ca != nil {
		f.logger.Info("Reloaded signing CA", "certFile", f.certFile, "subject", ca.Cert.Subject.String(), "notAfter", ca.Cert.NotAfter)
	}
	f.ca, f.certPEM, f.keyPEM, f.stamp = ca, certPEM, keyPEM, stamp
	return nil
}

func (f *FileCA) statFiles() (fileStamp, error) {
	ci, err := os.Stat(f.certFile)
	if err != nil {
		return fileStamp{}, fmt.Errorf("CA certificate file: %w", err)
	}
	ki, err := os.Stat(f.keyFile)
	if err != nil {
		return fileStamp{}, fmt.Errorf("CA key file: %w", err)
	}
	return fileStamp{certSize: ci.Size(), keySize: ki.Size(), certMod: ci.ModTime(), keyMod: ki.ModTime()}, nil
}
