package tokenctl

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// DescribeCSR prints one CertificateSigningRequest as `kubectl describe csr NAME` does:
// name, labels, annotations, creation time, requesting user, signer, requested duration,
// status (with each condition's reason and message), the request's subject and
// subjectAltNames, the usages, and the Events about it. An admin reads it before
// `csr approve` or `csr deny`.
func DescribeCSR(ctx context.Context, client kubernetes.Interface, out io.Writer, name string) error {
	obj, err := client.CertificatesV1().CertificateSigningRequests().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("getting certificatesigningrequest %q: %w", name, err)
	}
	events, err := client.CoreV1().Events(metav1.NamespaceAll).List(ctx, metav1.ListOptions{
		FieldSelector: fields.Set{"involvedObject.kind": "CertificateSigningRequest", "involvedObject.name": name}.String(),
	})
	if err != nil {
		return fmt.Errorf("listing the events of certificatesigningrequest %q: %w", name, err)
	}
	return WriteCSRDescription(out, obj, events.Items)
}

// WriteCSRDescription writes the description of DescribeCSR for an object already read. A
// request that does not parse is described as far as it goes, with the parse error.
func WriteCSRDescription(out io.Writer, obj *certificatesv1.CertificateSigningRequest, events []corev1.Event) error {
	w := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	line := func(indent int, label, value string) {
		fmt.Fprintf(w, "%s%s:\t%s\n", strings.Repeat("  ", indent), label, value)
	}
	line(0, "Name", obj.Name)
	line(0, "Labels", keyValues(obj.Labels))
	line(0, "Annotations", keyValues(obj.Annotations))
	line(0, "CreationTimestamp", obj.CreationTimestamp.Time.Format(time.RFC1123Z))
	line(0, "Requesting User", orNone(obj.Spec.Username))
	if len(obj.Spec.Groups) > 0 {
		line(0, "Requesting Groups", strings.Join(obj.Spec.Groups, ", "))
	}
	line(0, "Signer", orNone(obj.Spec.SignerName))
	requested := "<none>"
	if s := obj.Spec.ExpirationSeconds; s != nil {
		requested = fmt.Sprintf("%s (expirationSeconds %d)", duration.HumanDuration(time.Duration(*s)*time.Second), *s)
	}
	line(0, "Requested Duration", requested)
	line(0, "Status", csr.StateOf(obj).String())
	for _, c := range obj.Status.Conditions {
		line(1, string(c.Type), strings.TrimSpace(fmt.Sprintf("%s %s", c.Reason, c.Message)))
	}
	line(0, "Usages", usageList(obj.Spec.Usages))
	req, err := csr.ParseRequestPEM(obj.Spec.Request)
	if err != nil {
		line(0, "Request", "cannot be parsed: "+err.Error())
	} else {
		fmt.Fprintln(w, "Subject:")
		for _, f := range subjectFields(req.Subject) {
			line(1, f[0], f[1])
		}
		uris := make([]string, len(req.URIs))
		for i, u := range req.URIs {
			uris[i] = u.String()
		}
		sans := [][2]string{
			{"DNS Names", strings.Join(req.DNSNames, ", ")},
			{"IP Addresses", ipList(req.IPAddresses)},
			{"URIs", strings.Join(uris, ", ")},
			{"Email Addresses", strings.Join(req.EmailAddresses, ", ")},
		}
		if slices.ContainsFunc(sans, func(f [2]string) bool { return f[1] != "" }) {
			fmt.Fprintln(w, "Subject Alternative Names:")
			for _, f := range sans {
				if f[1] != "" {
					line(1, f[0], f[1])
				}
			}
		}
	}
	if len(obj.Status.Certificate) > 0 {
		if cert, err := parseCertificatePEM(obj.Status.Certificate); err == nil {
			line(0, "Certificate", fmt.Sprintf("issued by %q, valid %s to %s", cert.Issuer.CommonName,
				cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339)))
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return writeEvents(out, events)
}

func writeEvents(out io.Writer, events []corev1.Event) error {
	if len(events) == 0 {
		_, err := fmt.Fprintln(out, "Events:  <none>")
		return err
	}
	fmt.Fprintln(out, "Events:")
	w := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(w, "  Type\tReason\tFrom\tMessage")
	for _, e := range events {
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", e.Type, e.Reason, e.Source.Component, e.Message)
	}
	return w.Flush()
}

// subjectFields are the subject's non-empty fields, in kubectl's order.
func subjectFields(s pkix.Name) [][2]string {
	all := [][2]string{
		{"Common Name", s.CommonName},
		{"Serial Number", s.SerialNumber},
		{"Organization", strings.Join(s.Organization, ", ")},
		{"Organizational Unit", strings.Join(s.OrganizationalUnit, ", ")},
		{"Country", strings.Join(s.Country, ", ")},
		{"Locality", strings.Join(s.Locality, ", ")},
		{"Province", strings.Join(s.Province, ", ")},
		{"Street Address", strings.Join(s.StreetAddress, ", ")},
		{"Postal Code", strings.Join(s.PostalCode, ", ")},
	}
	return slices.DeleteFunc(all, func(f [2]string) bool { return f[1] == "" })
}

func keyValues(m map[string]string) string {
	if len(m) == 0 {
		return "<none>"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		keys[i] = k + "=" + m[k]
	}
	return strings.Join(keys, "\n\t")
}

func usageList(us []certificatesv1.KeyUsage) string {
	if len(us) == 0 {
		return "<none>"
	}
	s := make([]string, len(us))
	for i, u := range us {
		s[i] = string(u)
	}
	return strings.Join(s, ", ")
}

func ipList(ips []net.IP) string {
	s := make([]string, len(ips))
	for i, ip := range ips {
		s[i] = ip.String()
	}
	return strings.Join(s, ", ")
}

func bindCSRDescribe(*pflag.FlagSet) action {
	return func(ctx context.Context, inv *invocation) error {
		return DescribeCSR(ctx, inv.client, inv.out, inv.args[0])
	}
}

func parseCertificatePEM(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}
