package csr

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/types"
)

// DeniedError: the CSR was denied (an Approved condition can then never appear).
type DeniedError struct {
	Name, Reason, Message string
}

func (e *DeniedError) Error() string {
	return fmt.Sprintf("CertificateSigningRequest %q was denied (reason %q): %s", e.Name, e.Reason, orNone(e.Message))
}

// FailedError: the signer refused the approved CSR (condition Failed, e.g. reason
// SignerValidationFailure); the signer does not retry.
type FailedError struct {
	Name, Reason, Message string
}

func (e *FailedError) Error() string {
	return fmt.Sprintf("CertificateSigningRequest %q failed (reason %q): %s", e.Name, e.Reason, orNone(e.Message))
}

// deletedError: the CSR disappeared while it was awaited (deleted by a person or a
// cleaner); a new one must be submitted.
type deletedError struct {
	Name string
}

func (e *deletedError) Error() string {
	return fmt.Sprintf("CertificateSigningRequest %q was deleted before a certificate was issued", e.Name)
}

// uidChangedError: the CSR under the awaited name is a different object than the one
// submitted (it was deleted and created again).
type uidChangedError struct {
	Name      string
	Want, Got types.UID
}

func (e *uidChangedError) Error() string {
	return fmt.Sprintf("CertificateSigningRequest %q was replaced by another object (UID %s, want %s)", e.Name, e.Got, e.Want)
}

// WaitError: the context ended (deadline or cancellation) before the certificate was
// issued. State says what was still missing. It unwraps to the context's error.
type WaitError struct {
	Name  string
	State string
	Err   error
}

func (e *WaitError) Error() string {
	return fmt.Sprintf("waiting for CertificateSigningRequest %q (%s): %v", e.Name, e.State, e.Err)
}

func (e *WaitError) Unwrap() error { return e.Err }

// notIssuedError: download found the CSR but no certificate in it yet.
type notIssuedError struct {
	Name  string
	State string
}

func (e *notIssuedError) Error() string {
	return fmt.Sprintf("CertificateSigningRequest %q has no certificate yet (%s)", e.Name, e.State)
}

// IncompatibleError: a CSR with the wanted name exists but is not ours to reuse.
type IncompatibleError struct {
	Name   string
	Reason string
}

func (e *IncompatibleError) Error() string {
	return fmt.Sprintf("CertificateSigningRequest %q already exists and cannot be reused: %s", e.Name, e.Reason)
}

// mismatchError: an issued certificate does not match the request it answers.
type mismatchError struct {
	Name   string
	Reason string
}

func (e *mismatchError) Error() string {
	return fmt.Sprintf("certificate issued for CertificateSigningRequest %q does not match the request: %s", e.Name, e.Reason)
}

func orNone(s string) string {
	if s == "" {
		return "(no message)"
	}
	return s
}

// Ended reports whether err says that a CSR ended without a certificate and never will get
// one: it was denied, failed, deleted or replaced while awaited, or the certificate does
// not fit the request (as opposed to a wait that ran out while it was still pending).
func Ended(err error) bool {
	var denied *DeniedError
	var failed *FailedError
	var deleted *deletedError
	var replaced *uidChangedError
	var incompatible *IncompatibleError
	return errors.As(err, &denied) || errors.As(err, &failed) || errors.As(err, &deleted) ||
		errors.As(err, &replaced) || errors.As(err, &incompatible)
}
