package tokenctl

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/internal/serial"
)

// DefaultExpiringWithin is status's default threshold for flagging a certificate.
const DefaultExpiringWithin = 30 * 24 * time.Hour

// StatusOptions configure Status.
type StatusOptions struct {
	// ExpiringWithin flags certificates whose NotAfter is closer than this. Default
	// DefaultExpiringWithin.
	ExpiringWithin time.Duration
	// Now is the clock; zero means time.Now.
	Now time.Time
}

// NodeCertificate is the newest client certificate of a node known from issued CSRs.
type NodeCertificate struct {
	Node     string
	CSR      string
	Serial   string
	NotAfter time.Time
}

// NodeCertificates reads every issued kubelet client CSR and returns, per node, the
// certificate that expires last, sorted by node name. CSRs whose certificate does not
// parse are skipped (csr explain says why).
func NodeCertificates(ctx context.Context, client kubernetes.Interface) ([]NodeCertificate, error) {
	list, err := client.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing certificatesigningrequests: %w", err)
	}
	newest := map[string]NodeCertificate{}
	for _, obj := range list.Items {
		if obj.Spec.SignerName != certificatesv1.KubeAPIServerClientKubeletSignerName || len(obj.Status.Certificate) == 0 {
			continue
		}
		block, _ := pem.Decode(obj.Status.Certificate)
		if block == nil {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil || !strings.HasPrefix(cert.Subject.CommonName, csr.NodeUserPrefix) {
			continue
		}
		node := strings.TrimPrefix(cert.Subject.CommonName, csr.NodeUserPrefix)
		if have, ok := newest[node]; ok && !cert.NotAfter.After(have.NotAfter) {
			continue
		}
		newest[node] = NodeCertificate{Node: node, CSR: obj.Name, Serial: serial.Hex(cert.SerialNumber), NotAfter: cert.NotAfter}
	}
	out := make([]NodeCertificate, 0, len(newest))
	for _, c := range newest {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out, nil
}

// Status prints a table of the nodes' client certificates (NodeCertificates): NODE,
// EXPIRES (NotAfter), IN (time left), STATUS (OK, EXPIRING within the threshold, or
// EXPIRED), SERIAL and CSR, then a count of those needing attention. A cluster with
// expiring certificates is not an error: the exit code stays 0.
func Status(ctx context.Context, client kubernetes.Interface, out io.Writer, opts StatusOptions) error {
	if opts.ExpiringWithin <= 0 {
		opts.ExpiringWithin = DefaultExpiringWithin
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	certs, err := NodeCertificates(ctx, client)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 3, ' ', 0)
	fmt.Fprintln(w, "NODE\tEXPIRES\tIN\tSTATUS\tSERIAL\tCSR")
	attention := 0
	for _, c := range certs {
		left := c.NotAfter.Sub(now)
		status, in := "OK", duration.HumanDuration(left)
		switch {
		case left <= 0:
			status, in = "EXPIRED", "-"+duration.HumanDuration(-left)
			attention++
		case left < opts.ExpiringWithin:
			status = "EXPIRING"
			attention++
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Node, c.NotAfter.UTC().Format(time.RFC3339), in, status, c.Serial, c.CSR)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "\n%d of %d node client certificates expired or expiring within %s.\n", attention, len(certs), duration.HumanDuration(opts.ExpiringWithin))
	return err
}
