package rotate_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2/ktesting"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/node"
	"github.com/tlsbootstrap/tlsbootstrap/rbac"
	"github.com/tlsbootstrap/tlsbootstrap/rotate"
)

// bootstrapToken creates a kubeadm-style token and returns its bootstrap kubeconfig path
// and client configuration.
func bootstrapToken(t *testing.T) (string, *rest.Config) {
	t.Helper()
	path := testenv.BootstrapKubeconfig(t, cp)
	rc, err := kubeconfig.RESTConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, rc
}

// bootstrapNode gives nodeName its first client certificate through node.Bootstrap and
// the renewal binding when renewable; it returns the cert-dir and the node kubeconfig.
func bootstrapNode(t *testing.T, nodeName string, renewable bool) (certDir, kubeconfigPath string) {
	t.Helper()
	if renewable {
		grantRenewal(t, nodeName)
	}
	certDir = filepath.Join(t.TempDir(), "pki")
	return certDir, bootstrapNodeIn(t, nodeName, certDir)
}

// bootstrapNodeIn gives nodeName its first client certificate in certDir through
// node.Bootstrap and returns the node kubeconfig.
func bootstrapNodeIn(t *testing.T, nodeName, certDir string) string {
	t.Helper()
	bootstrapPath, _ := bootstrapToken(t)
	kubeconfigPath := filepath.Join(t.TempDir(), "kubelet.kubeconfig")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := node.Bootstrap(ctx, node.Options{
		BootstrapKubeconfig: bootstrapPath, Kubeconfig: kubeconfigPath, CertDir: certDir, NodeName: nodeName,
	}); err != nil {
		t.Fatalf("bootstrapping %s: %v", nodeName, err)
	}
	return kubeconfigPath
}

func renewalPreset(nodeName string) rbac.Preset {
	return rbac.Preset{Name: "renewal " + nodeName, ClusterRoleBindings: []rbacv1.ClusterRoleBinding{rbac.NodeRenewalBinding(nodeName)}}
}

func grantRenewal(t *testing.T, nodeName string) {
	t.Helper()
	if err := rbac.Apply(context.Background(), cp.Client(), renewalPreset(nodeName)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rbac.Revoke(context.Background(), cp.Client(), renewalPreset(nodeName)) })
}

// renewOnce renews the certificate with serial first at once and later ones at their
// normal deadline, so a test sees exactly one renewal within seconds.
func renewOnce(first *big.Int) func(*x509.Certificate) time.Time {
	return func(c *x509.Certificate) time.Time {
		if c.SerialNumber.Cmp(first) == 0 {
			return time.Now()
		}
		return rotate.NextDeadline(c, nil)
	}
}

type rotation struct{ old, new *x509.Certificate }

func startManager(t *testing.T, cfg rotate.ManagerOptions) (*rotate.Manager, chan rotation) {
	t.Helper()
	rotated := make(chan rotation, 4)
	cfg.OnRotated = func(old, new *x509.Certificate) { rotated <- rotation{old, new} }
	log, _ := ktesting.NewTestContext(t)
	m, _ := runManager(t, log, cfg)
	return m, rotated
}

func waitRotation(t *testing.T, m *rotate.Manager, rotated chan rotation) rotation {
	t.Helper()
	select {
	case r := <-rotated:
		return r
	case <-time.After(90 * time.Second):
		t.Fatalf("no rotation within 90s; status %+v", m.Status())
	}
	return rotation{}
}

func getCSR(t *testing.T, name string) *certificatesv1.CertificateSigningRequest {
	t.Helper()
	obj, err := cp.Client().CertificatesV1().CertificateSigningRequests().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("renewal CSR %q: %v", name, err)
	}
	return obj
}

func TestRenewsThroughSelfNodeClient(t *testing.T) {
	testenv.Need(t)
	const nodeName = "renew-self"
	certDir, kubeconfigPath := bootstrapNode(t, nodeName, true)
	store, err := rotate.NewStore(certDir, rotate.ClientPrefix, rotate.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	old, err := store.Current()
	if err != nil {
		t.Fatal(err)
	}
	oldLink, _ := os.Readlink(store.CurrentPath())
	server, err := kubeconfig.RESTConfig(kubeconfigPath)
	if err != nil {
		t.Fatal(err)
	}
	m, rotated := startManager(t, rotate.ManagerOptions{Store: store, NodeName: nodeName, Server: server, Deadline: renewOnce(old.Leaf.SerialNumber)})
	r := waitRotation(t, m, rotated)

	if r.old == nil || r.old.SerialNumber.Cmp(old.Leaf.SerialNumber) != 0 {
		t.Errorf("OnRotated old = %v, want the bootstrap certificate", r.old)
	}
	if r.new.SerialNumber.Cmp(old.Leaf.SerialNumber) == 0 {
		t.Fatal("the renewed certificate has the old serial")
	}
	if bytes.Equal(r.new.RawSubjectPublicKeyInfo, old.Leaf.RawSubjectPublicKeyInfo) {
		t.Error("the renewal reused the old key, want a new one")
	}
	st := m.Status()
	if st.Path != rotate.PathNodeCertificate || st.LastError != nil || st.Rotations != 1 || !st.NotAfter.Equal(r.new.NotAfter) {
		t.Errorf("status %+v, want path %s, no error, 1 rotation, NotAfter %v", st, rotate.PathNodeCertificate, r.new.NotAfter)
	}
	if !st.NextDeadline.After(time.Now()) {
		t.Errorf("next deadline %v is not in the future", st.NextDeadline)
	}
	obj := getCSR(t, st.CSR)
	if obj.Spec.Username != "system:node:"+nodeName || obj.Spec.SignerName != certificatesv1.KubeAPIServerClientKubeletSignerName {
		t.Errorf("renewal CSR made by %q for %s, want system:node:%s for the kubelet client signer", obj.Spec.Username, obj.Spec.SignerName, nodeName)
	}
	if !approvedWith(obj, "self kubelet client") {
		t.Errorf("renewal CSR conditions %+v, want approved as selfnodeclient", obj.Status.Conditions)
	}
	if cur := m.Current(); cur == nil || cur.Leaf.SerialNumber.Cmp(r.new.SerialNumber) != 0 {
		t.Error("Current() is not the renewed certificate")
	}
	if got, err := m.GetClientCertificate(nil); err != nil || got != m.Current() {
		t.Errorf("GetClientCertificate = %v, %v; want Current()", got, err)
	}
	newLink, _ := os.Readlink(store.CurrentPath())
	if newLink == oldLink {
		t.Errorf("current link still points at %s", oldLink)
	}
	onDisk, err := store.Current()
	if err != nil || onDisk.Leaf.SerialNumber.Cmp(r.new.SerialNumber) != 0 {
		t.Fatalf("the current link does not hold the renewed pair: %v", err)
	}
	status, err := kubeconfig.Check(kubeconfigPath, time.Now())
	if err != nil || !status.NotAfter.Equal(r.new.NotAfter) {
		t.Errorf("node kubeconfig check: %v, NotAfter %v; want the renewed certificate", err, status)
	}
	if u := testenv.WhoAmI(t, kubeconfigPath); u.Username != "system:node:"+nodeName || !slices.Contains(u.Groups, "system:nodes") {
		t.Errorf("node kubeconfig authenticates as %q %v", u.Username, u.Groups)
	}
}

func approvedWith(obj *certificatesv1.CertificateSigningRequest, message string) bool {
	for _, c := range obj.Status.Conditions {
		if c.Type == certificatesv1.CertificateApproved && strings.Contains(c.Message, message) {
			return true
		}
	}
	return false
}

// expiredCertificate is a client certificate for nodeName from the cluster CA that
// expired a minute ago, as PEM certificate and key.
func expiredCertificate(t *testing.T, nodeName string) ([]byte, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "system:node:" + nodeName, Organization: []string{"system:nodes"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(-time.Minute),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, cp.CA.Cert, key.Public(), cp.CA.Key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := csr.MarshalKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM
}

func TestExpiredCertificateFallsBackToBootstrap(t *testing.T) {
	testenv.Need(t)
	const nodeName = "renew-expired"
	_, bootstrap := bootstrapToken(t)
	store, err := rotate.NewStore(t.TempDir(), rotate.ClientPrefix, rotate.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Update(expiredCertificate(t, nodeName)); err != nil {
		t.Fatal(err)
	}

	m, rotated := startManager(t, rotate.ManagerOptions{Store: store, NodeName: nodeName, Server: bootstrap, Bootstrap: bootstrap})
	r := waitRotation(t, m, rotated)

	if !r.new.NotAfter.After(time.Now()) {
		t.Errorf("renewed certificate expires at %v", r.new.NotAfter)
	}
	st := m.Status()
	if st.Path != rotate.PathBootstrap {
		t.Errorf("path %q, want %q", st.Path, rotate.PathBootstrap)
	}
	obj := getCSR(t, st.CSR)
	if !strings.HasPrefix(obj.Spec.Username, "system:bootstrap:") || !approvedWith(obj, "Auto approving kubelet client") {
		t.Errorf("CSR by %q with conditions %+v, want one by the bootstrap token approved as nodeclient", obj.Spec.Username, obj.Status.Conditions)
	}
}

func TestNoFallbackReportsWhy(t *testing.T) {
	testenv.Need(t)
	store, err := rotate.NewStore(t.TempDir(), rotate.ClientPrefix, rotate.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Update(expiredCertificate(t, "no-fallback")); err != nil {
		t.Fatal(err)
	}
	m, _ := startManager(t, rotate.ManagerOptions{Store: store, NodeName: "no-fallback", Server: cp.AnonymousConfig(),
		Backoff: rotate.Backoff{Initial: 50 * time.Millisecond, Steps: 1}})
	st := waitStatus(t, m, func(s rotate.Status) bool { return s.LastError != nil })
	if st.Path != rotate.PathBootstrap || !strings.Contains(st.LastError.Error(), "no bootstrap credentials") {
		t.Errorf("status %+v, want the bootstrap path and an error saying there are no bootstrap credentials", st)
	}
}

func waitStatus(t *testing.T, m *rotate.Manager, ok func(rotate.Status) bool) rotate.Status {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if st := m.Status(); ok(st) {
			return st
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("status never reached the wanted state: %+v", m.Status())
	return rotate.Status{}
}

func TestRevokedRenewalStaysPending(t *testing.T) {
	testenv.Need(t)
	const nodeName = "renew-revoked"
	certDir, kubeconfigPath := bootstrapNode(t, nodeName, true)
	if err := rbac.Revoke(context.Background(), cp.Client(), renewalPreset(nodeName)); err != nil {
		t.Fatal(err)
	}
	store, err := rotate.NewStore(certDir, rotate.ClientPrefix, rotate.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	old, err := store.Current()
	if err != nil {
		t.Fatal(err)
	}
	server, err := kubeconfig.RESTConfig(kubeconfigPath)
	if err != nil {
		t.Fatal(err)
	}

	m, rotated := startManager(t, rotate.ManagerOptions{Store: store, NodeName: nodeName, Server: server,
		Deadline: renewOnce(old.Leaf.SerialNumber), RequestTimeout: 4 * time.Second,
		Backoff: rotate.Backoff{Initial: 30 * time.Second, Steps: 1}})
	st := waitStatus(t, m, func(s rotate.Status) bool { return s.LastError != nil })

	var waitErr *csr.WaitError
	if !errors.As(st.LastError, &waitErr) || waitErr.State != csr.StatePendingApproval {
		t.Errorf("last error %v, want a wait that ended pending approval", st.LastError)
	}
	if st.Path != rotate.PathNodeCertificate {
		t.Errorf("path %q, want %q", st.Path, rotate.PathNodeCertificate)
	}
	obj := getCSR(t, st.CSR)
	if obj.Spec.Username != "system:node:"+nodeName || len(obj.Status.Conditions) != 0 || len(obj.Status.Certificate) != 0 {
		t.Errorf("renewal CSR by %q with conditions %+v, want it pending", obj.Spec.Username, obj.Status.Conditions)
	}
	if cur := m.Current(); cur == nil || cur.Leaf.SerialNumber.Cmp(old.Leaf.SerialNumber) != 0 {
		t.Error("the manager no longer serves the old certificate")
	}
	if onDisk, err := store.Current(); err != nil || onDisk.Leaf.SerialNumber.Cmp(old.Leaf.SerialNumber) != 0 {
		t.Errorf("the store's current pair changed: %v", err)
	}
	if u := testenv.WhoAmI(t, kubeconfigPath); u.Username != "system:node:"+nodeName {
		t.Errorf("old certificate no longer authenticates: %q", u.Username)
	}
	select {
	case r := <-rotated:
		t.Errorf("rotated to serial %v without the renewal right", r.new.SerialNumber)
	default:
	}
}

func TestServingCertificate(t *testing.T) {
	testenv.Need(t)
	const nodeName = "serve-1"
	certDir, kubeconfigPath := bootstrapNode(t, nodeName, false)
	servingBinding := rbac.Preset{Name: "serving", ClusterRoleBindings: []rbacv1.ClusterRoleBinding{rbac.NodeServingRenewalBinding(nodeName)}}
	if err := rbac.Apply(context.Background(), cp.Client(), servingBinding); err != nil {
		t.Fatal(err)
	}
	createNode(t, nodeName, "10.1.2.3")

	clientStore, err := rotate.NewStore(certDir, rotate.ClientPrefix, rotate.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	server, err := kubeconfig.RESTConfig(kubeconfigPath)
	if err != nil {
		t.Fatal(err)
	}
	clientMgr, err := rotate.NewManager(rotate.ManagerOptions{Store: clientStore, NodeName: nodeName, Server: server})
	if err != nil {
		t.Fatal(err)
	}
	servingStore, err := rotate.NewStore(certDir, rotate.ServingPrefix, rotate.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var haveAddress atomic.Bool
	var requests atomic.Int32
	nodeClient := rotate.NodeClient(rotate.NodeClientOptions{Server: server, Certificate: clientMgr.Current})
	m, rotated := startManager(t, rotate.ManagerOptions{
		Store: servingStore, Kind: rotate.KindServing, NodeName: nodeName,
		Addresses: func() ([]string, []net.IP) {
			if !haveAddress.Load() {
				return nil, nil
			}
			return []string{nodeName}, []net.IP{net.ParseIP("10.1.2.3")}
		},
		Client: func() (kubernetes.Interface, rotate.Path, error) {
			requests.Add(1)
			return nodeClient()
		},
		Backoff: rotate.Backoff{Initial: 200 * time.Millisecond, Steps: 1},
	})

	// No address: no request, and the status says why.
	st := waitStatus(t, m, func(s rotate.Status) bool { return s.LastError != nil })
	if !errors.Is(st.LastError, rotate.ErrNoAddresses) || requests.Load() != 0 || m.Current() != nil {
		t.Fatalf("without an address: status %+v, %d requests; want ErrNoAddresses and none", st, requests.Load())
	}
	haveAddress.Store(true)
	r := waitRotation(t, m, rotated)

	if !slices.Equal(r.new.DNSNames, []string{nodeName}) || len(r.new.IPAddresses) != 1 || !r.new.IPAddresses[0].Equal(net.ParseIP("10.1.2.3")) {
		t.Errorf("SANs %v %v, want [%s] [10.1.2.3]", r.new.DNSNames, r.new.IPAddresses, nodeName)
	}
	if !slices.Equal(r.new.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
		t.Errorf("extended key usages %v, want server auth only", r.new.ExtKeyUsage)
	}
	obj := getCSR(t, m.Status().CSR)
	if obj.Spec.SignerName != certificatesv1.KubeletServingSignerName || obj.Spec.Username != "system:node:"+nodeName {
		t.Errorf("serving CSR for %s by %q", obj.Spec.SignerName, obj.Spec.Username)
	}
	if _, err := os.Stat(filepath.Join(certDir, rotate.ServingPrefix+"-current.pem")); err != nil {
		t.Error(err)
	}

	// A TLS server using GetCertificate is trusted by a client that trusts the cluster CA.
	assertServes(t, m, nodeName)
}

// createNode creates the Node object with an InternalIP and a Hostname address, which
// the serving approver checks the SANs against.
func createNode(t *testing.T, name, ip string) {
	t.Helper()
	ctx := context.Background()
	n, err := cp.Client().CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cp.Client().CoreV1().Nodes().Delete(context.Background(), name, metav1.DeleteOptions{}) })
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}, {Type: corev1.NodeHostName, Address: name}}
	if _, err := cp.Client().CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// assertServes runs an HTTPS server whose certificate comes from m.GetCertificate and
// connects to it as a client trusting the cluster CA, naming the node.
func assertServes(t *testing.T, m *rotate.Manager, nodeName string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	srv.TLS = &tls.Config{GetCertificate: m.GetCertificate}
	srv.StartTLS()
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(cp.CA.Cert)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: nodeName}}}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatalf("TLS with the serving certificate: %v", err)
	}
	resp.Body.Close()
}
