package tokenctl

import (
	"context"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/internal/certrecord"
)

// DefaultExpiringWithin is status's default threshold for flagging a certificate.
const DefaultExpiringWithin = 30 * 24 * time.Hour

// StatusOptions configure Status.
type StatusOptions struct {
	// ExpiringWithin flags certificates whose NotAfter is closer than this. Default
	// DefaultExpiringWithin.
	ExpiringWithin time.Duration
	// RecordNamespace is where the nodecertificates controller keeps its record. Empty:
	// every namespace.
	RecordNamespace string
	// Now is the clock; zero means time.Now.
	Now time.Time
}

// NodeCertificate is a node's newest certificate of a kind, or a Node whose certificate
// of that kind nobody knows (NotAfter zero).
type NodeCertificate struct {
	Node    string
	Kind    certrecord.Kind
	Cert    certrecord.Cert
	Source  string // "record" or "CSR"
	Unknown bool
}

// NodeCertificates merges what is known of every node's client and serving certificates:
// the nodecertificates controller's record (which outlives the CSR cleaner), the issued
// kubelet CSRs still in the cluster (whoever signed them), and the Nodes, which make a
// row UNKNOWN where neither knows their certificate. Soonest expiry first, unknown last.
func NodeCertificates(ctx context.Context, client kubernetes.Interface, recordNamespace string) ([]NodeCertificate, error) {
	recorded, err := certrecord.Read(ctx, client, recordNamespace)
	if err != nil && !apierrors.IsForbidden(err) {
		return nil, err
	}
	list, err := client.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing certificatesigningrequests: %w", err)
	}
	rows := map[string]NodeCertificate{}
	add := func(source string, nodes map[string]certrecord.Entry) {
		for node, e := range nodes {
			for kind, c := range e {
				key := node + "/" + string(kind)
				if have, ok := rows[key]; ok && !c.NotAfter.After(have.Cert.NotAfter) {
					continue
				}
				rows[key] = NodeCertificate{Node: node, Kind: kind, Cert: c, Source: source}
			}
		}
	}
	add("record", recorded)
	add("CSR", certrecord.FromCSRs(list.Items))
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err == nil {
		for _, n := range nodes.Items {
			for _, kind := range certrecord.Kinds() {
				if _, ok := rows[n.Name+"/"+string(kind)]; !ok {
					rows[n.Name+"/"+string(kind)] = NodeCertificate{Node: n.Name, Kind: kind, Unknown: true}
				}
			}
		}
	}
	out := make([]NodeCertificate, 0, len(rows))
	for _, r := range rows {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Unknown != b.Unknown {
			return b.Unknown
		}
		if !a.Cert.NotAfter.Equal(b.Cert.NotAfter) {
			return a.Cert.NotAfter.Before(b.Cert.NotAfter)
		}
		if a.Node != b.Node {
			return a.Node < b.Node
		}
		return a.Kind < b.Kind
	})
	return out, nil
}

// Status prints a table of the nodes' client and serving certificates (NodeCertificates),
// soonest expiry first: NODE, KIND, EXPIRES, IN (time left), STATUS (OK, EXPIRING within
// the threshold, EXPIRED, or UNKNOWN), RENEWED (when the newest was issued), SERIAL and
// SOURCE, then a count of those needing attention. A cluster with expiring certificates
// is not an error: the exit code stays 0.
func Status(ctx context.Context, client kubernetes.Interface, out io.Writer, opts StatusOptions) error {
	if opts.ExpiringWithin <= 0 {
		opts.ExpiringWithin = DefaultExpiringWithin
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	certs, err := NodeCertificates(ctx, client, opts.RecordNamespace)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 3, ' ', 0)
	fmt.Fprintln(w, "NODE\tKIND\tEXPIRES\tIN\tSTATUS\tRENEWED\tSERIAL\tSOURCE")
	attention, known := 0, 0
	for _, c := range certs {
		if c.Unknown {
			attention++
			fmt.Fprintf(w, "%s\t%s\t-\t-\tUNKNOWN\t-\t-\t-\n", c.Node, c.Kind)
			continue
		}
		known++
		left := c.Cert.NotAfter.Sub(now)
		status, in := "OK", duration.HumanDuration(left)
		switch {
		case left <= 0:
			status, in = "EXPIRED", "-"+duration.HumanDuration(-left)
			attention++
		case left < opts.ExpiringWithin:
			status = "EXPIRING"
			attention++
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s ago\t%s\t%s\n", c.Node, c.Kind, c.Cert.NotAfter.UTC().Format(time.RFC3339), in, status,
			duration.HumanDuration(now.Sub(c.Cert.Issued)), c.Cert.Serial, c.Source)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "\n%d of %d node certificates expired, expiring within %s, or unknown (%d known).\n",
		attention, len(certs), duration.HumanDuration(opts.ExpiringWithin), known)
	return err
}
