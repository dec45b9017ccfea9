package csr

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// RequestOptions are the contents of a generic x509 certificate request.
type RequestOptions struct {
	Subject        pkix.Name
	DNSNames       []string
	IPAddresses    []net.IP
	URIs           []*url.URL
	EmailAddresses []string
}

// NewRequest makes a PEM "CERTIFICATE REQUEST" signed by key, after checking the key's
// strength with ValidateKey.
func NewRequest(opts RequestOptions, key crypto.Signer) ([]byte, error) {
	if key == nil {
		return nil, errors.New("certificate request: no private key")
	}
	if err := ValidateKey(key.Public()); err != nil {
		return nil, fmt.Errorf("certificate request: %w", err)
	}
	tmpl := &x509.CertificateRequest{
		Subject:        opts.Subject,
		DNSNames:       opts.DNSNames,
		IPAddresses:    opts.IPAddresses,
		URIs:           opts.URIs,
		EmailAddresses: opts.EmailAddresses,
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		return nil, fmt.Errorf("certificate request: signing: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

// NodeSubject is the subject of a kubelet certificate: CN system:node:<nodeName>,
// O system:nodes.
func NodeSubject(nodeName string) pkix.Name {
	return pkix.Name{CommonName: NodeUserPrefix + nodeName, Organization: []string{NodesGroup}}
}

// nodeClientRequest makes the kubelet's client certificate request: NodeSubject and no SANs.
func nodeClientRequest(nodeName string, key crypto.Signer) ([]byte, error) {
	if err := validateNodeName(nodeName); err != nil {
		return nil, err
	}
	return NewRequest(RequestOptions{Subject: NodeSubject(nodeName)}, key)
}

// nodeServingRequest makes the kubelet's serving certificate request: NodeSubject with
// the node's DNS names and IP addresses as SANs (at least one is required).
func nodeServingRequest(nodeName string, dnsNames []string, ips []net.IP, key crypto.Signer) ([]byte, error) {
	if err := validateNodeName(nodeName); err != nil {
		return nil, err
	}
	if len(dnsNames) == 0 && len(ips) == 0 {
		return nil, fmt.Errorf("serving certificate request for node %q: at least one DNS name or IP address is required", nodeName)
	}
	for _, ip := range ips {
		if len(ip) != net.IPv4len && len(ip) != net.IPv6len {
			return nil, fmt.Errorf("serving certificate request for node %q: invalid IP address %v", nodeName, ip)
		}
	}
	return NewRequest(RequestOptions{Subject: NodeSubject(nodeName), DNSNames: dnsNames, IPAddresses: ips}, key)
}

// validateNodeName requires a name a Node object can have (a DNS-1123 subdomain): the
// certificate's user must match that Node for the Node authorizer to grant anything.
func validateNodeName(nodeName string) error {
	if nodeName == "" {
		return errors.New("node name is empty")
	}
	if errs := validation.IsDNS1123Subdomain(nodeName); len(errs) > 0 {
		return fmt.Errorf("node name %q is not a valid Node name: %s", nodeName, strings.Join(errs, "; "))
	}
	return nil
}
