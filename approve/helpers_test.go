package approve_test

import (
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/tlsbootstrap/tlsbootstrap/internal/csrtest"

	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// request describes an x509 certificate request for tests; built by hand with crypto/x509
// so the tests do not depend on the csr package's builders.
type request struct {
	cn     string
	orgs   []string
	dns    []string
	ips    []net.IP
	emails []string
	uris   []*url.URL
}

func kubeletRequest(node string) request {
	return request{cn: "system:node:" + node, orgs: []string{"system:nodes"}}
}

func (r request) withCN(cn string) request           { r.cn = cn; return r }
func (r request) withOrgs(orgs ...string) request    { r.orgs = orgs; return r }
func (r request) withDNS(names ...string) request    { r.dns = names; return r }
func (r request) withEmail(emails ...string) request { r.emails = emails; return r }
func (r request) withIPs(ips ...string) request {
	r.ips = nil
	for _, s := range ips {
		r.ips = append(r.ips, net.ParseIP(s))
	}
	return r
}
func (r request) withURI(raw string) request {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	r.uris = []*url.URL{u}
	return r
}

func (r request) pem(tb testing.TB) []byte {
	return csrtest.Request{CN: r.cn, Orgs: r.orgs, DNS: r.dns, IPs: r.ips, Emails: r.emails, URIs: r.uris}.PEM(tb, csrtest.NewKey(tb))
}

var (
	clientUsages  = []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}
	servingUsages = []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth}
)

// csrObject is a CSR as the API server would store it, with requester set by hand (pure
// tests only; the real-server tests let the server set it).
func csrObject(name, signer, requester string, usages []certificatesv1.KeyUsage, requestPEM []byte) *certificatesv1.CertificateSigningRequest {
	groups := []string{"system:authenticated"}
	if strings.HasPrefix(requester, "system:node:") {
		groups = append(groups, "system:nodes") // as the API server sets it for a node
	}
	return &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: certificatesv1.CertificateSigningRequestSpec{
			Request:    requestPEM,
			SignerName: signer,
			Usages:     usages,
			Username:   requester,
			Groups:     groups,
		},
	}
}
