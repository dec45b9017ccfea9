package diagnose_test

import (
	"crypto/x509/pkix"
	"fmt"
	"sync/atomic"
	"testing"

	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/csrtest"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
)

var cp *controlplane.ControlPlane

func TestMain(m *testing.M) { testenv.MainLazy(m, controlplane.Options{}, &cp) }

var serial atomic.Int64

func name(prefix string) string { return fmt.Sprintf("%s-%d", prefix, serial.Add(1)) }

func kubeletRequest(node string) csr.RequestOptions {
	return csr.RequestOptions{Subject: pkix.Name{CommonName: "system:node:" + node, Organization: []string{"system:nodes"}}}
}

func withOrgs(r csr.RequestOptions, orgs ...string) csr.RequestOptions {
	r.Subject.Organization = orgs
	return r
}

func withDNS(r csr.RequestOptions, names ...string) csr.RequestOptions {
	r.DNSNames = names
	return r
}

// bootstrapUser is a bootstrap-token-like identity that may create CSRs (kubeadm binds
// system:node-bootstrapper so).
func bootstrapUser(t *testing.T) (string, []string) {
	user := "system:bootstrap:" + name("tok")
	csrtest.BindClusterRole(t, cp, "system:node-bootstrapper", user)
	return user, []string{"system:bootstrappers"}
}

// grant lets user have CSRs of kind auto-approved, through Kubernetes' built-in ClusterRole,
// and waits until the RBAC authorizer (an informer) allows it.
func grant(t *testing.T, user string, groups []string, kind approve.Kind) {
	t.Helper()
	csrtest.BindClusterRole(t, cp, "system:certificates.k8s.io:certificatesigningrequests:"+string(kind), user)
	csrtest.WaitFor(t, user+" allowed "+string(kind), func() bool { return csrtest.Allowed(t, cp, user, groups, string(kind)) })
}

func clientAs(t *testing.T, user string, groups ...string) kubernetes.Interface {
	return csrtest.ClientAs(t, cp, user, groups...)
}

// createCSR creates a CSR as the given client, retrying while a fresh binding reaches the
// RBAC authorizer.
func createCSR(t *testing.T, as kubernetes.Interface, signer string, usages []certificatesv1.KeyUsage, opts csr.RequestOptions) *certificatesv1.CertificateSigningRequest {
	t.Helper()
	key, err := csr.GenerateKey(csr.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	req, err := csr.NewRequest(opts, key)
	if err != nil {
		t.Fatal(err)
	}
	obj := &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: name("csr")},
		Spec:       certificatesv1.CertificateSigningRequestSpec{Request: req, SignerName: signer, Usages: usages},
	}
	return csrtest.CreateAs(t, as, obj)
}
