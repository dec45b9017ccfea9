package rotate

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// CertificateKind is the kind of certificate a Manager keeps.
type CertificateKind string

const (
	// KindClient is the kubelet's client certificate (signer
	// kubernetes.io/kube-apiserver-client-kubelet, store prefix ClientPrefix).
	KindClient CertificateKind = "client"
	// KindServing is the kubelet's serving certificate (signer kubernetes.io/kubelet-serving,
	// store prefix ServingPrefix, SANs from ManagerOptions.Addresses).
	KindServing CertificateKind = "serving"
	// KindCertificate is any other certificate, described by ManagerOptions.Certificate.
	KindCertificate CertificateKind = "certificate"
)

// ManagerOptions configure a Manager. Store is required; for a kubelet certificate NodeName and
// either Client or Server, for any other certificate Certificate and Client.
type ManagerOptions struct {
	// Store keeps the certificate: NewStore's kubelet cert-dir (ClientPrefix or
	// ServingPrefix), or a Store of your own.
	Store Store
	// Kind of certificate. Default KindClient.
	Kind CertificateKind
	// NodeName: the certificate's CN is system:node:<NodeName>.
	NodeName string
	// Certificate, when set, is the certificate to keep, of any signer (CertificateKind and NodeName
	// are then ignored): a workload's serving certificate, a client certificate of your
	// own signer.
	Certificate *CertificateRequest
	// Addresses returns a serving certificate's SANs (hostname, node IPs). It is asked
	// before each decision, so changed addresses lead to a new certificate. No request is
	// made while it returns none. Required for KindServing; ignored for KindClient.
	Addresses func() (dnsNames []string, ips []net.IP)

	// Client builds the client requests are made with. Default, for KindClient,
	// NodeClient over Server, this Manager's certificate and Bootstrap. A serving Manager
	// should use NodeClient over the client Manager's Current.
	Client clientFunc
	// Server is the API server's address and CA, used when Client is nil.
	Server *rest.Config
	// Bootstrap credentials for the default Client's fallback. Nil: none.
	Bootstrap *rest.Config

	// KeyType of each new key. Default csr.ECDSAP256.
	KeyType csr.KeyType
	// ExpirationSeconds asks for a lifetime; nil leaves it to the signer.
	ExpirationSeconds *int32
	// Backoff after a failed attempt. Default defaultBackoff.
	Backoff Backoff
	// RequestTimeout bounds each wait for a CSR's certificate. Default
	// defaultRequestTimeout.
	RequestTimeout time.Duration
	// Deadline says when a valid certificate is renewed. Default renewalDeadline with Rand.
	Deadline func(cert *x509.Certificate) time.Time
	// Rand in [0, 1) draws deadlines and jitter. Default math/rand/v2.
	Rand func() float64
	// Clock for deadlines, expiry and waits. Default: the real clock.
	Clock clock.WithTicker
	// OnRotated is called after each renewal is stored, with the replaced certificate
	// (nil when there was none) and the new one.
	OnRotated func(old, new *x509.Certificate)
}

// CertificateRequest is a certificate of any signer that a Manager keeps.
type CertificateRequest struct {
	// Template returns what each request holds (subject and SANs). It is asked before
	// each decision, so a changed template leads to a new certificate. Required.
	Template func() (csr.RequestOptions, error)
	// SignerName and Usages of the CSRs. Required.
	SignerName string
	Usages     []certificatesv1.KeyUsage
}

func (c *ManagerOptions) complete() error {
	if c.Store == nil {
		return errors.New("rotation manager: Store is required")
	}
	if r := c.Certificate; r != nil {
		switch {
		case r.Template == nil || r.SignerName == "" || len(r.Usages) == 0:
			return errors.New("rotation manager: Certificate needs Template, SignerName and Usages")
		case c.Client == nil:
			return errors.New("rotation manager: Certificate needs Client (the identity its CSRs are made with)")
		}
		c.Kind = KindCertificate
		return c.defaults()
	}
	if c.NodeName == "" {
		return errors.New("rotation manager: NodeName is required")
	}
	switch c.Kind {
	case "":
		c.Kind = KindClient
	case KindClient:
	case KindServing:
		if c.Addresses == nil {
			return errors.New("rotation manager: a serving certificate needs Addresses")
		}
	default:
		return fmt.Errorf("rotation manager: unknown kind %q (want %q or %q)", c.Kind, KindClient, KindServing)
	}
	if c.Client == nil && c.Server == nil {
		return errors.New("rotation manager: set Client, or Server for the default node client")
	}
	if c.Kind == KindServing && c.Client == nil {
		return errors.New("rotation manager: a serving certificate needs Client (NodeClient over the client Manager's Current)")
	}
	return c.defaults()
}

func (c *ManagerOptions) defaults() error {
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = defaultRequestTimeout
	}
	if c.Rand == nil {
		c.Rand = defaultRand
	}
	if c.Deadline == nil {
		random := c.Rand
		c.Deadline = func(cert *x509.Certificate) time.Time { return renewalDeadline(cert, random) }
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	c.Backoff = c.Backoff.orDefault()
	return nil
}
