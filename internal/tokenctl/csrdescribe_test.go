package tokenctl_test

import (
	"context"
	"crypto/x509/pkix"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// TestCSRDescribe creates a workload CSR as the admin with every kind of subjectAltName,
// an Event about it, then reads it back with `csr describe` before and after a denial.
func TestCSRDescribe(t *testing.T) {
	ctx := context.Background()
	client := cp.Client()
	me, err := whoAmI(t, cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	key, err := csr.GenerateKey(csr.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	spiffe, _ := url.Parse("spiffe://cluster.local/ns/web/sa/frontend")
	reqPEM, err := csr.NewRequest(csr.RequestOptions{
		Subject:        pkix.Name{CommonName: "web.ns.svc", Organization: []string{"Example Org"}},
		DNSNames:       []string{"web.ns.svc", "web.ns.svc.cluster.local"},
		IPAddresses:    []net.IP{net.ParseIP("10.96.0.42"), net.ParseIP("fd00::42")},
		URIs:           []*url.URL{spiffe},
		EmailAddresses: []string{"ops@example.com"},
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	obj := csr.New(csr.Spec{
		Name: "describe-web", Request: reqPEM, SignerName: "example.com/workload-serving",
		Usages:            []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth},
		ExpirationSeconds: csr.DurationSeconds(2 * time.Hour),
	})
	obj.Labels = map[string]string{"app": "web"}
	if _, err := client.CertificatesV1().CertificateSigningRequests().Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = client.CertificatesV1().CertificateSigningRequests().Delete(ctx, obj.Name, metav1.DeleteOptions{})
	})
	_, err = client.CoreV1().Events("default").Create(ctx, &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{GenerateName: "describe-web."},
		InvolvedObject: corev1.ObjectReference{Kind: "CertificateSigningRequest", Name: obj.Name, APIVersion: "certificates.k8s.io/v1"},
		Type:           corev1.EventTypeNormal, Reason: "Inspected", Message: "looked at by the test",
		Source: corev1.EventSource{Component: "describe-test"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	out := mustRun(t, "csr", "describe", obj.Name, admin())
	for _, want := range []string{
		"Name:", "describe-web",
		"Labels:", "app=web",
		"Requesting User:", me.Username,
		"Signer:", "example.com/workload-serving",
		"Requested Duration:", "120m (expirationSeconds 7200)",
		"Status:", "Pending",
		"Usages:", "digital signature, server auth",
		"Common Name:", "web.ns.svc",
		"Organization:", "Example Org",
		"DNS Names:", "web.ns.svc, web.ns.svc.cluster.local",
		"IP Addresses:", "10.96.0.42, fd00::42",
		"URIs:", "spiffe://cluster.local/ns/web/sa/frontend",
		"Email Addresses:", "ops@example.com",
		"Events:", "Inspected", "looked at by the test",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("describe output lacks %q:\n%s", want, out)
		}
	}

	if err := approve.Deny(ctx, client, obj.Name, "NotOurs", "names outside the namespace"); err != nil {
		t.Fatal(err)
	}
	out = mustRun(t, "csr", "describe", obj.Name, admin())
	for _, want := range []string{"Status:", "Denied", "NotOurs names outside the namespace"} {
		if !strings.Contains(out, want) {
			t.Errorf("describe output after deny lacks %q:\n%s", want, out)
		}
	}

	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"csr", "describe", "no-such-csr", admin()}, `"no-such-csr"`},
		{[]string{"csr", "describe", admin()}, "usage"},
		{[]string{"csr", "describe", "a", "b", admin()}, "usage"},
	} {
		if _, err := run(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("tokenctl %v: %v, want an error containing %s", tc.args, err, tc.wantErr)
		}
	}
}
