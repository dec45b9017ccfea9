package main

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	certificatesv1 "k8s.io/api/certificates/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/rotate"
)

// fileStore keeps the workload's pair as the Kubernetes task names it, server.crt and
// server-key.pem in --out-dir: a rotate.Store of the program's own.
type fileStore struct{ dir string }

func (s fileStore) Current() (*tls.Certificate, error) {
	certPEM, err := os.ReadFile(filepath.Join(s.dir, CertFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, rotate.ErrNoCertificate
	}
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(s.dir, KeyFile))
	if err != nil {
		return nil, err
	}
	return rotate.ParsePair(append(certPEM, keyPEM...))
}

func (s fileStore) Update(certPEM, keyPEM []byte) (*tls.Certificate, error) {
	pair, err := rotate.ParsePair(append(append([]byte{}, certPEM...), keyPEM...))
	if err != nil {
		return nil, err
	}
	return pair, writeFiles(s.dir, certPEM, keyPEM)
}

// renewer keeps the files renewed before they expire, with the same request, through the
// same signer: each renewal is a new key and a CSR the admin (or a policy) approves, and
// while one is pending every retry waits on it instead of filing another.
func renewer(client kubernetes.Interface, o *options) (*rotate.Manager, error) {
	var usages []certificatesv1.KeyUsage
	for _, u := range o.usages {
		usages = append(usages, certificatesv1.KeyUsage(strings.TrimSpace(u)))
	}
	m, err := rotate.NewManager(rotate.ManagerOptions{
		Store:  fileStore{dir: o.outDir},
		Client: rotate.FixedClient(client),
		Certificate: &rotate.CertificateRequest{
			Template: func() (csr.RequestOptions, error) {
				return csr.RequestOptions{Subject: pkix.Name{CommonName: o.commonName}, DNSNames: o.dnsNames, IPAddresses: o.ips}, nil
			},
			SignerName: o.signerName,
			Usages:     usages,
		},
		ExpirationSeconds: csr.DurationSeconds(o.duration),
		RequestTimeout:    o.timeout,
	})
	if err != nil {
		return nil, fmt.Errorf("renewal: %w", err)
	}
	return m, nil
}
