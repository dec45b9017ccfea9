package csr_test

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	certificatesv1 "k8s.io/api/certificates/v1"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

func mustKey(t testing.TB, kt csr.KeyType) crypto.Signer {
	t.Helper()
	key, err := csr.GenerateKey(kt)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func TestRequests(t *testing.T) {
	ec, rsaKey, ed := mustKey(t, csr.ECDSAP256), mustKey(t, csr.RSA2048), mustKey(t, csr.Ed25519)
	uri, _ := url.Parse("spiffe://cluster.local/ns/default/sa/web")
	ip := net.ParseIP("10.0.0.7").To4()
	ds, ke, ca := certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment, certificatesv1.UsageClientAuth

	type want struct {
		cn     string
		orgs   []string
		dns    []string
		ips    []string
		uris   []string
		emails []string
	}
	nodeWant := want{cn: "system:node:worker-1", orgs: []string{"system:nodes"}}
	tests := []struct {
		name     string
		make     func() ([]byte, error)
		key      crypto.Signer
		want     want
		validate func([]byte) error // the kubelet rules the request must satisfy
		wantErr  string
	}{
		{
			name: "node client ECDSA", key: ec, want: nodeWant,
			make:     func() ([]byte, error) { return csr.NodeClientRequest("worker-1", ec) },
			validate: rule(csr.ValidateKubeletClient, csr.NodeClientUsages(ec.Public())),
		},
		{
			name: "node client RSA", key: rsaKey, want: nodeWant,
			make:     func() ([]byte, error) { return csr.NodeClientRequest("worker-1", rsaKey) },
			validate: rule(csr.ValidateKubeletClient, csr.NodeClientUsages(rsaKey.Public())),
		},
		{
			name: "node client Ed25519", key: ed, want: nodeWant,
			make:     func() ([]byte, error) { return csr.NodeClientRequest("worker-1", ed) },
			validate: rule(csr.ValidateKubeletClient, []certificatesv1.KeyUsage{ds, ca}),
		},
		{
			name: "node serving", key: ec,
			want: want{cn: nodeWant.cn, orgs: nodeWant.orgs, dns: []string{"worker-1", "worker-1.example"}, ips: []string{"10.0.0.7"}},
			make: func() ([]byte, error) {
				return csr.NodeServingRequest("worker-1", []string{"worker-1", "worker-1.example"}, []net.IP{ip}, ec)
			},
			validate: rule(csr.ValidateKubeletServing, csr.NodeServingUsages(ec.Public())),
		},
		{
			name: "generic service certificate", key: rsaKey,
			want: want{cn: "web.default.svc", orgs: []string{"acme"}, dns: []string{"web.default.svc"}, ips: []string{"10.0.0.7"}, uris: []string{uri.String()}, emails: []string{"ops@example.com"}},
			make: func() ([]byte, error) {
				return csr.NewRequest(csr.RequestOptions{
					Subject:        pkix.Name{CommonName: "web.default.svc", Organization: []string{"acme"}},
					DNSNames:       []string{"web.default.svc"},
					IPAddresses:    []net.IP{ip},
					URIs:           []*url.URL{uri},
					EmailAddresses: []string{"ops@example.com"},
				}, rsaKey)
			},
			validate: func([]byte) error { return csr.ValidateKubeAPIServerClient([]certificatesv1.KeyUsage{ds, ke, ca}) },
		},
		{name: "empty node name", make: func() ([]byte, error) { return csr.NodeClientRequest("", ec) }, wantErr: "node name is empty"},
		{name: "invalid node name", make: func() ([]byte, error) { return csr.NodeClientRequest("Worker_1", ec) }, wantErr: `node name "Worker_1" is not a valid Node name`},
		{name: "serving without SANs", make: func() ([]byte, error) { return csr.NodeServingRequest("worker-1", nil, nil, ec) }, wantErr: "at least one DNS name or IP address"},
		{name: "serving bad IP", make: func() ([]byte, error) { return csr.NodeServingRequest("worker-1", nil, []net.IP{{1, 2}}, ec) }, wantErr: "invalid IP address"},
		{name: "no key", make: func() ([]byte, error) { return csr.NewRequest(csr.RequestOptions{}, nil) }, wantErr: "no private key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := tc.make()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			req, err := csr.ParseRequestPEM(data)
			if err != nil {
				t.Fatal(err)
			}
			got := want{cn: req.Subject.CommonName, orgs: req.Subject.Organization, dns: req.DNSNames, emails: req.EmailAddresses}
			for _, ip := range req.IPAddresses {
				got.ips = append(got.ips, ip.String())
			}
			for _, u := range req.URIs {
				got.uris = append(got.uris, u.String())
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("request contents (-want +got):\n%s", diff)
			}
			if !req.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(tc.key.Public()) {
				t.Error("request is not for the given key")
			}
			if err := tc.validate(data); err != nil {
				t.Errorf("request breaks the rules it is made for: %v", err)
			}
		})
	}
}

func rule(v func(*x509.CertificateRequest, []certificatesv1.KeyUsage) error, usages []certificatesv1.KeyUsage) func([]byte) error {
	return func(data []byte) error {
		req, err := csr.ParseRequestPEM(data)
		if err != nil {
			return err
		}
		return v(req, usages)
	}
}

func TestUsages(t *testing.T) {
	ds, ke, ca, sa := certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment, certificatesv1.UsageClientAuth, certificatesv1.UsageServerAuth
	tests := []struct {
		keyType     csr.KeyType
		wantClient  []certificatesv1.KeyUsage
		wantServing []certificatesv1.KeyUsage
	}{
		{csr.ECDSAP256, []certificatesv1.KeyUsage{ds, ca}, []certificatesv1.KeyUsage{ds, sa}},
		{csr.Ed25519, []certificatesv1.KeyUsage{ds, ca}, []certificatesv1.KeyUsage{ds, sa}},
		{csr.RSA2048, []certificatesv1.KeyUsage{ds, ca, ke}, []certificatesv1.KeyUsage{ds, sa, ke}},
	}
	for _, tc := range tests {
		t.Run(string(tc.keyType), func(t *testing.T) {
			pub := mustKey(t, tc.keyType).Public()
			if diff := cmp.Diff(tc.wantClient, csr.NodeClientUsages(pub)); diff != "" {
				t.Errorf("client usages (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantServing, csr.NodeServingUsages(pub)); diff != "" {
				t.Errorf("serving usages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewObject(t *testing.T) {
	key := mustKey(t, csr.ECDSAP256)
	spec, err := csr.NodeClientSpec("worker-1", key, csr.DurationSeconds(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	obj := csr.New(spec)
	if obj.Name != spec.Name || obj.GenerateName != "" {
		t.Errorf("name %q generateName %q, want %q and none", obj.Name, obj.GenerateName, spec.Name)
	}
	if obj.Spec.SignerName != certificatesv1.KubeAPIServerClientKubeletSignerName {
		t.Errorf("signer %q", obj.Spec.SignerName)
	}
	if obj.Spec.ExpirationSeconds == nil || *obj.Spec.ExpirationSeconds != 3600 {
		t.Errorf("expirationSeconds %v, want 3600", obj.Spec.ExpirationSeconds)
	}
	if string(obj.Spec.Request) != string(spec.Request) {
		t.Error("request not copied")
	}

	serving, err := csr.NodeServingSpec("worker-1", []string{"worker-1"}, nil, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	obj = csr.New(serving)
	if obj.Name != "" || obj.GenerateName != csr.GenerateNamePrefix {
		t.Errorf("serving CSR: name %q generateName %q, want a generated name", obj.Name, obj.GenerateName)
	}
	if obj.Spec.SignerName != certificatesv1.KubeletServingSignerName || obj.Spec.ExpirationSeconds != nil {
		t.Errorf("serving CSR: signer %q expiration %v", obj.Spec.SignerName, obj.Spec.ExpirationSeconds)
	}

	for _, tc := range []struct {
		d    time.Duration
		want *int32
	}{{0, nil}, {-time.Second, nil}, {1500 * time.Millisecond, ptr(1)}, {10 * time.Minute, ptr(600)}, {1 << 62, ptr(1<<31 - 1)}} {
		got := csr.DurationSeconds(tc.d)
		if !cmp.Equal(got, tc.want) {
			t.Errorf("DurationSeconds(%v) = %v, want %v", tc.d, deref(got), deref(tc.want))
		}
	}
}

func ptr(v int32) *int32 { return &v }

func deref(p *int32) any {
	if p == nil {
		return nil
	}
	return *p
}
