package rotate

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// Path names the credentials a renewal request was made with.
type Path string

const (
	// PathNodeCertificate: the node's own, still valid client certificate, so the CSR is
	// made by system:node:<name> and approved as selfnodeclient.
	PathNodeCertificate Path = "selfnodeclient"
	// PathBootstrap: the bootstrap credentials, because the node's certificate is missing
	// or expired; the CSR is approved as nodeclient if the bootstrap token still works.
	PathBootstrap Path = "bootstrap"
	// PathFixed: the one client given to FixedClient.
	PathFixed Path = "client"
)

// FixedClient always requests with client: for a ManagerOptions.Certificate of a workload whose
// identity (a service account, say) does not change with its certificate.
func FixedClient(client kubernetes.Interface) clientFunc {
	return func() (kubernetes.Interface, Path, error) { return client, PathFixed, nil }
}

// clientFunc returns a client to request a certificate with and the credentials it
// carries.
type clientFunc func() (kubernetes.Interface, Path, error)

// NodeClientOptions configure NodeClient.
type NodeClientOptions struct {
	// Server holds the API server's address and CA; credentials in it are ignored.
	// Required.
	Server *rest.Config
	// Certificate returns the node's current client certificate, e.g. a client
	// Manager's Current. Required.
	Certificate func() *tls.Certificate
	// Bootstrap holds the bootstrap credentials, used when there is no valid node
	// certificate. Nil: no fallback.
	Bootstrap *rest.Config
	// Clock decides whether the certificate has expired. Default: the real clock.
	Clock clock.PassiveClock
	// NewForConfig builds the client. Default kubernetes.NewForConfig.
	NewForConfig func(*rest.Config) (kubernetes.Interface, error)
}

// NodeClient returns a clientFunc that uses the node's current client certificate while
// it is valid, and the bootstrap credentials once it is missing or expired.
func NodeClient(opts NodeClientOptions) clientFunc {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.NewForConfig == nil {
		opts.NewForConfig = func(c *rest.Config) (kubernetes.Interface, error) { return kubernetes.NewForConfig(c) }
	}
	return func() (kubernetes.Interface, Path, error) {
		if opts.Server == nil || opts.Certificate == nil {
			return nil, "", errors.New("node client: a server configuration and a certificate source are required")
		}
		cert := opts.Certificate()
		if cert != nil && cert.Leaf != nil && opts.Clock.Now().Before(cert.Leaf.NotAfter) {
			cfg, err := withCertificate(opts.Server, cert)
			if err != nil {
				return nil, PathNodeCertificate, err
			}
			client, err := opts.NewForConfig(cfg)
			return client, PathNodeCertificate, err
		}
		if opts.Bootstrap == nil {
			why := "there is no node certificate"
			if cert != nil && cert.Leaf != nil {
				why = "the node certificate expired at " + cert.Leaf.NotAfter.UTC().Format(time.RFC3339)
			}
			return nil, PathBootstrap, fmt.Errorf("%s and there are no bootstrap credentials to fall back on", why)
		}
		client, err := opts.NewForConfig(rest.CopyConfig(opts.Bootstrap))
		return client, PathBootstrap, err
	}
}

// withCertificate is server's address and CA with cert as the only credentials.
func withCertificate(server *rest.Config, cert *tls.Certificate) (*rest.Config, error) {
	cfg := rest.AnonymousClientConfig(server)
	var chain bytes.Buffer
	for _, der := range cert.Certificate {
		_ = pem.Encode(&chain, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	signer, ok := cert.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("node certificate's private key of type %T cannot sign", cert.PrivateKey)
	}
	keyPEM, err := csr.MarshalKeyPEM(signer)
	if err != nil {
		return nil, err
	}
	cfg.CertData, cfg.KeyData = chain.Bytes(), keyPEM
	return cfg, nil
}
