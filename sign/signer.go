package sign

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// ReasonSignerValidationFailure is the reason of the Failed condition set on a CSR whose
// request breaks its signer's rules (as kube-controller-manager).
const ReasonSignerValidationFailure = "SignerValidationFailure"

// SignerOptions configure a Signer.
type SignerOptions struct {
	// CA signs for every built-in signer without an entry in SignerCAs (the
	// --cluster-signing-cert-file/-key-file pair). Optional when SignerCAs is set.
	CA CAProvider
	// SignerCAs gives individual built-in signers their own CA
	// (--cluster-signing-<signer>-cert-file/-key-file); keys are signer names.
	SignerCAs map[string]CAProvider
	// SigningDuration is the longest certificate lifetime (--cluster-signing-duration).
	// Default DefaultSigningDuration (8760h).
	SigningDuration time.Duration
	// Clock is the time certificates are issued at. Default the real clock.
	Clock clock.PassiveClock
	// CustomSigners are signer names of your own, each with its own CA and policy (see
	// SignerPolicy). Names must be unique and not built in.
	CustomSigners []SignerPolicy
}

// Signer issues certificates for approved CSRs of the built-in signers it has a CA for.
type Signer struct {
	cas      map[string]CAProvider
	policies map[string]*SignerPolicy // custom signers, also in cas
	duration time.Duration
	now      func() time.Time
}

// NewSigner checks cfg and returns a Signer. A SignerCAs key that is not a built-in signer,
// or no CA at all, is an error.
func NewSigner(cfg SignerOptions) (*Signer, error) {
	s := &Signer{cas: map[string]CAProvider{}, duration: cfg.SigningDuration}
	if s.duration == 0 {
		s.duration = DefaultSigningDuration
	}
	if s.duration < 0 {
		return nil, fmt.Errorf("signing duration %s is negative", s.duration)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	s.now = cfg.Clock.Now
	for name, p := range cfg.SignerCAs {
		if !isBuiltinSigner(name) {
			return nil, fmt.Errorf("CA given for signer %q, which is not a built-in signer (%v)", name, builtinSigners)
		}
		if p == nil {
			return nil, fmt.Errorf("CA for signer %q is nil", name)
		}
		s.cas[name] = p
	}
	if cfg.CA != nil {
		for _, name := range builtinSigners {
			if _, ok := s.cas[name]; !ok {
				s.cas[name] = cfg.CA
			}
		}
	}
	if err := s.addCustomSigners(cfg.CustomSigners); err != nil {
		return nil, err
	}
	if len(s.cas) == 0 {
		return nil, errors.New("no CA configured: set SignerOptions.CA, SignerOptions.SignerCAs or SignerOptions.CustomSigners")
	}
	return s, nil
}

// Handles reports whether the Signer signs for signerName.
func (s *Signer) Handles(signerName string) bool {
	_, ok := s.cas[signerName]
	return ok
}

// SigningDuration is the configured longest certificate lifetime.
func (s *Signer) signingDuration() time.Duration { return s.duration }

// Outcome is what Sign did with a CSR.
type Outcome string

// Outcomes of Sign.
const (
	// Signed: a certificate was written to status.certificate.
	Signed Outcome = "Signed"
	// Failed: the request broke its signer's rules; condition Failed was written.
	Failed Outcome = "Failed"
	// Skipped: nothing to do (see Result.Reason).
	Skipped Outcome = "Skipped"
)

// Reasons of a Skipped result.
const (
	skipNotApproved   = "NotApproved"
	skipDenied        = "Denied"
	skipAlreadyFailed = "AlreadyFailed"
	skipIssued        = "AlreadyIssued"
	skipForeignSigner = "ForeignSigner"
	skipGone          = "Deleted"
)

// Result tells what Sign did and why.
type Result struct {
	Outcome Outcome
	// Reason: a Skip* constant when Skipped, ReasonSignerValidationFailure when Failed.
	Reason string
	// Message explains a Failed result (the validation error).
	Message string
	// Certificate is the issued PEM certificate when Signed.
	Certificate []byte
	// Issuer is the CA certificate that signed it, when Signed.
	Issuer *x509.Certificate
}

// maxConflicts bounds re-reads after write conflicts before the caller retries later.
const maxConflicts = 3

// Sign issues a certificate for req if it is Approved, neither Denied nor Failed, holds no
// certificate and is for a signer s handles, and writes it with UpdateStatus. A request that
// breaks its signer's rules gets condition Failed/True, reason SignerValidationFailure.
// Writes carry req's resourceVersion: on a conflict Sign re-reads the CSR and decides again,
// so a CSR someone else signed meanwhile is never signed twice. It returns the CSR as
// written (or as last read) and what it did; an error is transient and worth a retry.
func (s *Signer) Sign(ctx context.Context, client kubernetes.Interface, req *certificatesv1.CertificateSigningRequest) (*certificatesv1.CertificateSigningRequest, Result, error) {
	api := client.CertificatesV1().CertificateSigningRequests()
	for attempt := 0; ; attempt++ {
		written, res, err := s.signOnce(ctx, client, req)
		if apierrors.IsNotFound(err) {
			return req, Result{Outcome: Skipped, Reason: skipGone}, nil
		}
		if err == nil || !apierrors.IsConflict(err) || attempt+1 >= maxConflicts {
			return written, res, err
		}
		fresh, gerr := api.Get(ctx, req.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(gerr) {
			return req, Result{Outcome: Skipped, Reason: skipGone}, nil
		}
		if gerr != nil {
			return req, Result{}, fmt.Errorf("re-reading CSR %q after a conflict: %w", req.Name, gerr)
		}
		req = fresh
	}
}

// Decide reports whether req should be signed now, and if not, why (a Skip* reason). It
// reads nothing but req.
func (s *Signer) Decide(req *certificatesv1.CertificateSigningRequest) (sign bool, skipReason string) {
	st := csr.StateOf(req)
	switch {
	case st.Issued:
		return false, skipIssued
	case st.Denied:
		return false, skipDenied
	case !st.Approved:
		return false, skipNotApproved
	case st.Failed:
		return false, skipAlreadyFailed
	case !s.Handles(req.Spec.SignerName):
		return false, skipForeignSigner
	}
	return true, ""
}

func (s *Signer) signOnce(ctx context.Context, client kubernetes.Interface, req *certificatesv1.CertificateSigningRequest) (*certificatesv1.CertificateSigningRequest, Result, error) {
	if ok, why := s.Decide(req); !ok {
		return req, Result{Outcome: Skipped, Reason: why}, nil
	}
	ca, err := s.cas[req.Spec.SignerName].Current()
	if err != nil {
		return req, Result{}, fmt.Errorf("CA for %s: %w", req.Spec.SignerName, err)
	}
	certPEM, err := s.issue(ca, req)
	api := client.CertificatesV1().CertificateSigningRequests()
	var verr *ValidationError
	if errors.As(err, &verr) {
		out := req.DeepCopy()
		out.Status.Conditions = append(out.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
			Type:           certificatesv1.CertificateFailed,
			Status:         corev1.ConditionTrue,
			Reason:         ReasonSignerValidationFailure,
			Message:        verr.Error(),
			LastUpdateTime: metav1.NewTime(s.now()),
		})
		written, err := api.UpdateStatus(ctx, out, metav1.UpdateOptions{})
		if err != nil {
			return req, Result{}, fmt.Errorf("setting condition Failed on CSR %q: %w", req.Name, err)
		}
		return written, Result{Outcome: Failed, Reason: ReasonSignerValidationFailure, Message: verr.Error()}, nil
	}
	if err != nil {
		return req, Result{}, fmt.Errorf("signing CSR %q: %w", req.Name, err)
	}
	out := req.DeepCopy()
	out.Status.Certificate = certPEM
	written, err := api.UpdateStatus(ctx, out, metav1.UpdateOptions{})
	if err != nil {
		return req, Result{}, fmt.Errorf("writing the certificate of CSR %q: %w", req.Name, err)
	}
	return written, Result{Outcome: Signed, Certificate: certPEM, Issuer: ca.Cert}, nil
}
