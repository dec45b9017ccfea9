package conformance

import (
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// csrRequest describes a CSR a case submits.
type csrRequest struct {
	Subject           pkix.Name
	DNSNames          []string
	IPAddresses       []net.IP
	EmailAddresses    []string
	URIs              []*url.URL
	SignerName        string
	Usages            []certificatesv1.KeyUsage
	ExpirationSeconds *int32
}

// Usage sets of the built-in signers, as the kubelet asks for them.
var (
	clientUsages  = []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}
	servingUsages = []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth}
)

// nodeClientRequest is the kubelet's client CSR for nodeName.
func nodeClientRequest(nodeName string) csrRequest {
	return csrRequest{
		Subject:    nodeSubject(nodeName),
		SignerName: certificatesv1.KubeAPIServerClientKubeletSignerName,
		Usages:     clientUsages,
	}
}

// nodeSubject is the subject a kubelet asks for, client and serving alike.
func nodeSubject(nodeName string) pkix.Name {
	return pkix.Name{CommonName: nodeUser(nodeName), Organization: []string{csr.NodesGroup}}
}

// submitted is a CSR a case created, with the key that signed its request.
type submitted struct {
	Name string
	Key  crypto.Signer
	Spec csrRequest
}

// SubmitCSR creates a CSR as who (admin when nil) and deletes it at cleanup. The error is
// the API server's answer to the create, for cases that expect a rejection.
func (t *caseT) submitCSR(ctx context.Context, who *csrIdentity, r csrRequest) (*submitted, error) {
	key, err := csr.GenerateKey(csr.ECDSAP256)
	if err != nil {
		t.Fatalf("generating a key: %v", err)
	}
	reqPEM, err := csr.NewRequest(csr.RequestOptions{
		Subject: r.Subject, DNSNames: r.DNSNames, IPAddresses: r.IPAddresses,
		EmailAddresses: r.EmailAddresses, URIs: r.URIs,
	}, key)
	if err != nil {
		t.Fatalf("building a certificate request: %v", err)
	}
	name := t.uniqueName("csr")
	obj := &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: suiteLabels},
		Spec: certificatesv1.CertificateSigningRequestSpec{
			Request: reqPEM, SignerName: r.SignerName, Usages: r.Usages, ExpirationSeconds: r.ExpirationSeconds,
		},
	}
	client := t.Client
	if who != nil {
		client = who.Client
	}
	if _, err := client.CertificatesV1().CertificateSigningRequests().Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		return nil, err
	}
	t.cleanup(func(ctx context.Context) error {
		return ignoreNotFound(t.Client.CertificatesV1().CertificateSigningRequests().Delete(ctx, name, metav1.DeleteOptions{}))
	})
	return &submitted{Name: name, Key: key, Spec: r}, nil
}

// MustSubmitCSR is SubmitCSR that fails the case on a rejected create.
func (t *caseT) mustSubmitCSR(ctx context.Context, who *csrIdentity, r csrRequest) *submitted {
	s, err := t.submitCSR(ctx, who, r)
	if err != nil {
		user := "admin"
		if who != nil {
			user = who.User
		}
		t.Fatalf("expected the API server to accept a CSR from %s (signer %s, CN %q); it answered: %v", user, r.SignerName, r.Subject.CommonName, err)
	}
	return s
}

// GetCSR reads a CSR as the admin.
func (t *caseT) getCSR(ctx context.Context, name string) (*certificatesv1.CertificateSigningRequest, error) {
	return t.Client.CertificatesV1().CertificateSigningRequests().Get(ctx, name, metav1.GetOptions{})
}

// Decide adds an Approved (approve=true) or Denied condition as the admin, as
// `kubectl certificate approve|deny` does. An existing condition of the same type is
// kept (another approver may have been faster).
func (t *caseT) decide(ctx context.Context, name string, approve bool) {
	condType, reason := certificatesv1.CertificateDenied, "ConformanceDenied"
	if approve {
		condType, reason = certificatesv1.CertificateApproved, "ConformanceApproved"
	}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj, err := t.getCSR(ctx, name)
		if err != nil {
			return err
		}
		if findCondition(obj, condType) != nil {
			return nil
		}
		obj.Status.Conditions = append(obj.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
			Type: condType, Status: corev1.ConditionTrue, Reason: reason, Message: "set by the tlsbootstrap conformance suite",
		})
		_, err = t.Client.CertificatesV1().CertificateSigningRequests().UpdateApproval(ctx, name, obj, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("setting %s on CSR %s: %v", condType, name, err)
	}
}

// WaitApproved waits for the Approved condition and returns the CSR; a Denied or Failed
// condition fails the case at once.
func (t *caseT) waitApproved(ctx context.Context, name string) *certificatesv1.CertificateSigningRequest {
	var got *certificatesv1.CertificateSigningRequest
	t.Eventually(ctx, "CSR "+name+" to be Approved", func(ctx context.Context) (bool, string, error) {
		obj, err := t.getCSR(ctx, name)
		if err != nil {
			return false, err.Error(), nil
		}
		got = obj
		if c := findCondition(obj, certificatesv1.CertificateDenied); c != nil {
			return false, describeCSR(obj), fmt.Errorf("CSR %s was Denied (%s: %s)", name, c.Reason, c.Message)
		}
		return findCondition(obj, certificatesv1.CertificateApproved) != nil, describeCSR(obj), nil
	})
	return got
}

// WaitCertificate waits for status.certificate and returns the first certificate.
func (t *caseT) waitCertificate(ctx context.Context, name string) *x509.Certificate {
	var got *x509.Certificate
	t.Eventually(ctx, "a certificate on CSR "+name, func(ctx context.Context) (bool, string, error) {
		obj, err := t.getCSR(ctx, name)
		if err != nil {
			return false, err.Error(), nil
		}
		if c := findCondition(obj, certificatesv1.CertificateFailed); c != nil {
			return false, describeCSR(obj), fmt.Errorf("CSR %s Failed (%s: %s)", name, c.Reason, c.Message)
		}
		if len(obj.Status.Certificate) == 0 {
			return false, describeCSR(obj), nil
		}
		cert, err := firstCertificate(obj.Status.Certificate)
		if err != nil {
			return false, describeCSR(obj), fmt.Errorf("CSR %s: status.certificate: %w", name, err)
		}
		got = cert
		return true, "", nil
	})
	return got
}

// Issue submits r as who, approves it as the admin and returns the issued certificate.
func (t *caseT) issue(ctx context.Context, who *csrIdentity, r csrRequest) (*submitted, *x509.Certificate) {
	s := t.mustSubmitCSR(ctx, who, r)
	t.decide(ctx, s.Name, true)
	return s, t.waitCertificate(ctx, s.Name)
}

// undecided is a Consistently condition: no Approved and no Denied condition.
func (t *caseT) undecided(name string) func(ctx context.Context) (bool, string, error) {
	return func(ctx context.Context) (bool, string, error) {
		obj, err := t.getCSR(ctx, name)
		if err != nil {
			return false, "", err
		}
		ok := findCondition(obj, certificatesv1.CertificateApproved) == nil && findCondition(obj, certificatesv1.CertificateDenied) == nil
		return ok, describeCSR(obj), nil
	}
}

// notApproved is a Consistently condition: no Approved condition (Denied is fine).
func (t *caseT) notApproved(name string) func(ctx context.Context) (bool, string, error) {
	return func(ctx context.Context) (bool, string, error) {
		obj, err := t.getCSR(ctx, name)
		if err != nil {
			return false, "", err
		}
		return findCondition(obj, certificatesv1.CertificateApproved) == nil, describeCSR(obj), nil
	}
}

// unsigned is a Consistently condition: no certificate and no Failed condition.
func (t *caseT) unsigned(name string) func(ctx context.Context) (bool, string, error) {
	return func(ctx context.Context) (bool, string, error) {
		obj, err := t.getCSR(ctx, name)
		if err != nil {
			return false, "", err
		}
		ok := len(obj.Status.Certificate) == 0 && findCondition(obj, certificatesv1.CertificateFailed) == nil
		return ok, describeCSR(obj), nil
	}
}

// observeCSRs checks cond for every name during the observation window.
func (t *caseT) observeCSRs(ctx context.Context, expected string, names []string, cond func(name string) func(context.Context) (bool, string, error)) {
	conds := make([]func(context.Context) (bool, string, error), len(names))
	for i, n := range names {
		conds[i] = cond(n)
	}
	t.consistently(ctx, t.Options.ObservationWindow, expected, func(ctx context.Context) (bool, string, error) {
		for i, c := range conds {
			ok, seen, err := c(ctx)
			if err != nil || !ok {
				return ok, "CSR " + names[i] + " " + seen, err
			}
		}
		return true, "", nil
	})
}

func findCondition(obj *certificatesv1.CertificateSigningRequest, typ certificatesv1.RequestConditionType) *certificatesv1.CertificateSigningRequestCondition {
	return csr.Condition(obj, typ)
}

// describeCSR is a one-line state for messages: conditions and whether a certificate
// is present.
func describeCSR(obj *certificatesv1.CertificateSigningRequest) string {
	var parts []string
	for _, c := range obj.Status.Conditions {
		parts = append(parts, fmt.Sprintf("%s=%s(%s: %q)", c.Type, c.Status, c.Reason, c.Message))
	}
	if len(parts) == 0 {
		parts = append(parts, "no conditions (Pending)")
	}
	if len(obj.Status.Certificate) > 0 {
		parts = append(parts, "certificate issued")
	} else {
		parts = append(parts, "no certificate")
	}
	return strings.Join(parts, ", ")
}

func firstCertificate(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("no PEM CERTIFICATE block")
	}
	return x509.ParseCertificate(block.Bytes)
}

func seconds32(d time.Duration) *int32 {
	s := int32(d / time.Second)
	return &s
}
