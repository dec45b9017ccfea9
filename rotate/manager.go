package rotate

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
	"k8s.io/klog/v2"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/internal/serial"
)

// recheckInterval bounds a wait for a deadline, so changed addresses are noticed.
const recheckInterval = time.Minute

// errNoAddresses: a serving certificate is not requested before the node has an address.
var errNoAddresses = errors.New("no serving certificate requested: the node has no address yet")

// Status is a snapshot of a Manager's state.
type Status struct {
	// Kind of certificate.
	Kind CertificateKind
	// Serial and NotAfter of the certificate in use (empty when none).
	Serial   string
	NotAfter time.Time
	// NextDeadline is when the next renewal starts (the past while one is under way).
	NextDeadline time.Time
	// Path is the credentials of the last attempt.
	Path Path
	// CSR is the name of the last renewal CSR, when known.
	CSR string
	// LastError of the last attempt, nil after a success; LastAttempt is when it ended.
	LastError   error
	LastAttempt time.Time
	// Rotations counts the renewals stored by this Manager.
	Rotations int
}

// Manager keeps one certificate renewed before it expires: at its deadline (or at once
// when there is none, it has expired, its key is weak or it no longer matches the
// template) it makes a new key, requests a certificate through a new CSR, stores the pair
// and serves it from Current. Failed attempts are retried after ManagerOptions.Backoff, the old
// certificate staying in use.
type Manager struct {
	cfg     ManagerOptions
	current atomic.Pointer[tls.Certificate]
	loadErr error // the stored certificate's, when it was unusable at NewManager

	mu      sync.Mutex
	status  Status
	started bool

	// pendingKey is the key of an attempt whose CSR is still pending (used by renew only,
	// which flight runs one at a time).
	pendingKey crypto.Signer
	// flight joins concurrent renewals (the loop's and RenewNow's) into one.
	flight singleflight.Group
	// wake tells the loop that RenewNow stored a certificate (its deadline changed).
	wake chan struct{}

	// deadline is drawn once per certificate.
	deadlineMu  sync.Mutex
	deadlineFor *x509.Certificate
	deadline    time.Time
}

// NewManager checks cfg and loads the stored certificate, if any.
func NewManager(cfg ManagerOptions) (*Manager, error) {
	if err := cfg.complete(); err != nil {
		return nil, err
	}
	m := &Manager{cfg: cfg, status: Status{Kind: cfg.Kind}, wake: make(chan struct{}, 1)}
	if m.cfg.Client == nil {
		m.cfg.Client = NodeClient(NodeClientOptions{Server: cfg.Server, Certificate: m.Current, Bootstrap: cfg.Bootstrap, Clock: cfg.Clock})
	}
	if cert, err := cfg.Store.Current(); err == nil {
		m.setCurrent(cert)
	} else if !errors.Is(err, ErrNoCertificate) {
		m.loadErr = err // logged by Run, which has the logger
	}
	return m, nil
}

// Run renews until ctx ends, logging to ctx's logger (klog.FromContext); an attempt under
// way when ctx ends is abandoned (its CSR stays on the server). It returns nil when ctx
// ends, and an error when the Manager is already running.
func (m *Manager) Run(ctx context.Context) error {
	m.mu.Lock()
	if m.started {
		m.mu.Unlock()
		return errors.New("rotation manager: already running")
	}
	m.started = true
	m.mu.Unlock()
	m.run(ctx)
	return nil
}

// Current is the certificate in use, nil when there is none.
func (m *Manager) Current() *tls.Certificate { return m.current.Load() }

// GetClientCertificate is for tls.Config.GetClientCertificate: each handshake gets the
// certificate in use.
func (m *Manager) GetClientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	if cert := m.Current(); cert != nil {
		return cert, nil
	}
	return nil, fmt.Errorf("no %s certificate yet for node %s", m.cfg.Kind, m.cfg.NodeName)
}

// GetCertificate is for tls.Config.GetCertificate: each handshake gets the certificate
// in use.
func (m *Manager) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return m.GetClientCertificate(nil)
}

// Status returns a snapshot of the Manager's state.
func (m *Manager) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.status
}

func (m *Manager) setCurrent(cert *tls.Certificate) {
	m.current.Store(cert)
	m.mu.Lock()
	m.status.Serial, m.status.NotAfter = serial.Hex(cert.Leaf.SerialNumber), cert.Leaf.NotAfter
	m.mu.Unlock()
}

func (m *Manager) update(f func(s *Status)) {
	m.mu.Lock()
	f(&m.status)
	m.mu.Unlock()
}

func (m *Manager) run(ctx context.Context) {
	log := klog.FromContext(ctx).WithValues("kind", m.cfg.Kind, "node", m.cfg.NodeName)
	if m.loadErr != nil {
		log.Error(m.loadErr, "Stored certificate is unusable; requesting a new one")
	}
	failures := 0
	for ctx.Err() == nil {
		now := m.cfg.Clock.Now()
		var leaf *x509.Certificate
		if cur := m.Current(); cur != nil {
			leaf = cur.Leaf
		}
		tmpl, err := m.template()
		if err != nil {
			if !m.sleep(ctx, m.failed(log, err, &failures, "")) {
				return
			}
			continue
		}
		reason := renewReason(leaf, tmpl, now)
		if reason == "" {
			deadline := m.deadlineOf(leaf)
			m.update(func(s *Status) { s.NextDeadline = deadline })
			if wait := deadline.Sub(now); wait > 0 {
				if !m.sleep(ctx, min(wait, recheckInterval)) {
					return
				}
				continue
			}
			reason = "renewal deadline reached"
		} else {
			m.update(func(s *Status) { s.NextDeadline = now })
		}
		path, err := m.renewJoined(ctx, log, tmpl, reason)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if !m.sleep(ctx, m.failed(log, err, &failures, path)) {
				return
			}
			continue
		}
		failures = 0 // renew has recorded the success in the Status
	}
}

// failed records a failed attempt and returns how long to wait before the next.
func (m *Manager) failed(log klog.Logger, err error, failures *int, path Path) time.Duration {
	delay := m.cfg.Backoff.delayAfter(*failures, m.cfg.Rand)
	*failures++
	log.Error(err, "certificate renewal failed; keeping the current certificate", "path", path, "attempt", *failures, "retryIn", delay)
	m.update(func(s *Status) { s.LastError, s.LastAttempt, s.Path = err, m.cfg.Clock.Now(), path })
	return delay
}

// template is what the certificate must hold now.
func (m *Manager) template() (certTemplate, error) {
	if c := m.cfg.Certificate; c != nil {
		opts, err := c.Template()
		if err != nil {
			return certTemplate{}, err
		}
		return certTemplate{CommonName: opts.Subject.CommonName, Organization: opts.Subject.Organization,
			DNSNames: opts.DNSNames, IPAddresses: opts.IPAddresses}, nil
	}
	if m.cfg.Kind == KindClient {
		return clientTemplate(m.cfg.NodeName), nil
	}
	dns, ips := m.cfg.Addresses()
	if len(dns) == 0 && len(ips) == 0 {
		return certTemplate{}, errNoAddresses
	}
	return servingTemplate(m.cfg.NodeName, dns, ips), nil
}

func (m *Manager) deadlineOf(leaf *x509.Certificate) time.Time {
	m.deadlineMu.Lock()
	defer m.deadlineMu.Unlock()
	if m.deadlineFor != leaf {
		m.deadlineFor, m.deadline = leaf, m.cfg.Deadline(leaf)
	}
	return m.deadline
}

// sleep waits d on the Manager's clock; false when ctx ended first.
func (m *Manager) sleep(ctx context.Context, d time.Duration) bool {
	t := m.cfg.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C():
		return true
	case <-m.wake:
		return true
	}
}

// RenewNow renews the certificate at once, whatever its deadline, and returns the new
// one: for an operator's "rotate now", a CA change, or a test. A renewal already under way
// (the background loop's, or another RenewNow's) is joined, not doubled: one CSR, one new
// certificate for all callers. It works with or without Start. Errors are the attempt's:
// errNoAddresses, a *csr.DeniedError or *csr.FailedError, a store error (errors.As them).
func (m *Manager) RenewNow(ctx context.Context) (*x509.Certificate, error) {
	log := klog.FromContext(ctx).WithValues("kind", m.cfg.Kind, "node", m.cfg.NodeName)
	tmpl, err := m.template()
	if err != nil {
		return nil, err
	}
	path, err := m.renewJoined(ctx, log, tmpl, "renewal asked for (RenewNow)")
	if err != nil {
		m.update(func(s *Status) { s.LastError, s.LastAttempt, s.Path = err, m.cfg.Clock.Now(), path })
		return nil, err
	}
	select {
	case m.wake <- struct{}{}:
	default:
	}
	return m.Current().Leaf, nil
}

// renewJoined is renew, shared by the callers that ask at the same time.
// OnRotated runs after the shared renewal has ended, in the caller that made it, so a
// RenewNow asked from OnRotated, or once it has run, is a renewal of its own.
func (m *Manager) renewJoined(ctx context.Context, log klog.Logger, tmpl certTemplate, reason string) (Path, error) {
	var rotated [2]*x509.Certificate // old, new; set by the caller that ran the renewal
	v, err, _ := m.flight.Do("renew", func() (any, error) { return m.renew(ctx, log, tmpl, reason, &rotated) })
	if rotated[1] != nil && m.cfg.OnRotated != nil {
		m.cfg.OnRotated(rotated[0], rotated[1])
	}
	path, _ := v.(Path)
	return path, err
}

// renew makes one attempt: new key, new CSR with the client the path chose, store. It
// records a success in the Status and the old and new certificate in rotated (for
// OnRotated, which renewJoined calls); the caller records a failure.
func (m *Manager) renew(ctx context.Context, log klog.Logger, tmpl certTemplate, reason string, rotated *[2]*x509.Certificate) (Path, error) {
	client, path, err := m.cfg.Client()
	if err != nil {
		return path, fmt.Errorf("renewing the %s certificate: no client (%s): %w", m.cfg.Kind, orNone(string(path)), err)
	}
	log.Info("renewing certificate", "reason", reason, "path", path)
	m.update(func(s *Status) { s.Path = path })
	if w, ok := m.cfg.Store.(interface{ CheckWritable() error }); ok {
		if err := w.CheckWritable(); err != nil {
			return path, fmt.Errorf("not requesting a certificate that could not be stored: %w", err)
		}
	}
	// The key of an attempt that is still pending is kept: its CSR's name derives from
	// it, so the next attempt waits on that CSR instead of filing another.
	key := m.pendingKey
	if key == nil {
		if key, err = csr.GenerateKey(m.cfg.KeyType); err != nil {
			return path, err
		}
		if err := csr.ValidateKey(key.Public()); err != nil {
			return path, fmt.Errorf("refusing the new key: %w", err)
		}
	}
	spec, err := m.spec(key, tmpl)
	if err != nil {
		return path, err
	}
	m.pendingKey = key
	m.update(func(s *Status) { s.CSR = spec.Name })
	reqCtx, cancel := context.WithTimeout(ctx, m.cfg.RequestTimeout)
	defer cancel()
	certPEM, name, err := csr.Request(reqCtx, client, csr.RequestSpec{Spec: spec, Key: key})
	m.update(func(s *Status) { s.CSR = name })
	if err != nil {
		if settled(err) {
			m.pendingKey = nil // that CSR is final: the next attempt is a new request
		}
		return path, fmt.Errorf("renewing the %s certificate with %s credentials: %w", m.cfg.Kind, path, err)
	}
	m.pendingKey = nil
	keyPEM, err := csr.MarshalKeyPEM(key)
	if err != nil {
		return path, err
	}
	issued, err := ParsePair(append(append([]byte{}, certPEM...), keyPEM...))
	if err != nil {
		return path, fmt.Errorf("certificate of CSR %s: %w", name, err)
	}
	if mismatch := tmpl.Mismatch(issued.Leaf); mismatch != "" {
		return path, fmt.Errorf("certificate of CSR %s does not match the request: %s", name, mismatch)
	}
	pair, err := m.cfg.Store.Update(certPEM, keyPEM)
	if err != nil {
		return path, err
	}
	var old *x509.Certificate
	if cur := m.Current(); cur != nil {
		old = cur.Leaf
	}
	m.setCurrent(pair)
	next := m.deadlineOf(pair.Leaf)
	// The Status of a successful attempt, whole before OnRotated runs.
	m.update(func(s *Status) {
		s.Rotations++
		s.LastError, s.LastAttempt, s.NextDeadline = nil, m.cfg.Clock.Now(), next
	})
	kv := []any{"csr", name, "path", path, "newSerial", serial.Hex(pair.Leaf.SerialNumber), "notAfter", pair.Leaf.NotAfter, "nextDeadline", next}
	if old != nil {
		kv = append(kv, "oldSerial", serial.Hex(old.SerialNumber))
	}
	log.Info("rotated certificate", kv...)
	*rotated = [2]*x509.Certificate{old, pair.Leaf}
	return path, m.checkSkew(log, pair.Leaf, name)
}

// spec is the CSR of one attempt with key: a kubelet's, or ManagerOptions.Certificate's.
func (m *Manager) spec(key crypto.Signer, tmpl certTemplate) (csr.Spec, error) {
	switch {
	case m.cfg.Certificate != nil:
		c := m.cfg.Certificate
		opts, err := c.Template()
		if err != nil {
			return csr.Spec{}, err
		}
		req, err := csr.NewRequest(opts, key)
		if err != nil {
			return csr.Spec{}, err
		}
		name, err := csr.NodeCSRName(key.Public(), opts.Subject, c.Usages) // deterministic, as the kubelet's
		if err != nil {
			return csr.Spec{}, err
		}
		return csr.Spec{Name: "csr-" + strings.TrimPrefix(name, csr.NodeCSRNamePrefix), Request: req,
			SignerName: c.SignerName, Usages: c.Usages, ExpirationSeconds: m.cfg.ExpirationSeconds}, nil
	case m.cfg.Kind == KindClient:
		return csr.NodeClientSpec(m.cfg.NodeName, key, m.cfg.ExpirationSeconds)
	default:
		return csr.NodeServingSpec(m.cfg.NodeName, tmpl.DNSNames, tmpl.IPAddresses, key, m.cfg.ExpirationSeconds)
	}
}

// settled reports a request that ended for good (denied, failed, deleted, replaced, or
// incompatible), as opposed to one still pending when the wait ran out.
func settled(err error) bool { return csr.Ended(err) }

// checkSkew looks at a certificate just stored with this machine's clock. Not valid yet:
// it works anyway (the API server's clock decides) and its deadline is counted from its
// NotBefore, so only a warning. Already expired: renewing at once would find every new
// certificate expired too and request certificates in a tight loop, so the attempt counts
// as failed and the next one waits for the backoff.
func (m *Manager) checkSkew(log klog.Logger, cert *x509.Certificate, csrName string) error {
	skew := CheckIssued(cert, m.cfg.Clock.Now())
	if skew == nil {
		return nil
	}
	if skew.notYetValid() {
		log.Info("Warning: clock skew", "csr", csrName, "clockOffset", skew.Offset.String(), "detail", skew.Error())
		return nil
	}
	return fmt.Errorf("stored the certificate of CSR %s, but the next renewal waits for the backoff: %w", csrName, skew)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
