package sign_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/internal/csrtest"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"

	authenticationv1 "k8s.io/api/authentication/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

// clusterSigner signs with the test cluster's CA, loaded from its files as a
// kube-controller-manager would, with the signer duration of Kubernetes' tests (24h).
func clusterSigner(t testing.TB) *sign.Signer { return csrtest.ClusterSigner(t, cp) }

// TestDurationTable is the duration table of kube-controller-manager's signer tests (pkg/controller/certificates/signer/signer_test.go) against the real API server.
func TestDurationTable(t *testing.T) {
	testenv.Need(t)
	client := cp.Client()
	signer := clusterSigner(t)
	for _, tc := range []struct {
		name         string
		seconds      *int32
		wantLifetime time.Duration
	}{
		{"unset", nil, 24 * time.Hour},
		{"24h", int32p(24 * 3600), 24 * time.Hour},
		{"48h", int32p(48 * 3600), 24 * time.Hour},
		{"20h", int32p(20 * 3600), 20 * time.Hour},
		{"10h", int32p(10 * 3600), 10 * time.Hour},
		{"2h", int32p(2 * 3600), 2*time.Hour + 5*time.Minute},
		{"30m", int32p(30 * 60), 35 * time.Minute},
		{"10m", int32p(10 * 60), 15 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj, _ := kubeletClientCSR(t, uniqueName(t), "duration")
			obj.Spec.ExpirationSeconds = tc.seconds
			approved := setCondition(t, client, create(t, client, obj), certificatesv1.CertificateApproved)
			written, res, err := signer.Sign(context.Background(), client, approved)
			if err != nil || res.Outcome != sign.Signed {
				t.Fatalf("Sign: %+v, %v", res, err)
			}
			cert := parseCert(t, written.Status.Certificate)
			if got := cert.NotAfter.Sub(cert.NotBefore); got != tc.wantLifetime {
				t.Errorf("lifetime %s, want %s", got, tc.wantLifetime)
			}
			if d := time.Since(cert.NotBefore); d < 5*time.Minute-2*time.Second || d > 5*time.Minute+time.Minute {
				t.Errorf("NotBefore %s ago, want about 5m", d)
			}
		})
	}
	for _, seconds := range []int32{599, 180, -420} {
		obj, _ := kubeletClientCSR(t, uniqueName(t), "duration")
		obj.Spec.ExpirationSeconds = int32p(seconds)
		_, err := client.CertificatesV1().CertificateSigningRequests().Create(context.Background(), obj, metav1.CreateOptions{})
		if !apierrors.IsInvalid(err) {
			t.Errorf("expirationSeconds %d: create returned %v, want Invalid", seconds, err)
		}
	}
}

// TestSignOutcomes: what the signer does with each kind of CSR on a real server.
func TestSignOutcomes(t *testing.T) {
	testenv.Need(t)
	ctx := context.Background()
	client := cp.Client()
	signer := clusterSigner(t)
	type step func(t *testing.T, obj *certificatesv1.CertificateSigningRequest) *certificatesv1.CertificateSigningRequest
	cond := func(typ certificatesv1.RequestConditionType) step {
		return func(t *testing.T, obj *certificatesv1.CertificateSigningRequest) *certificatesv1.CertificateSigningRequest {
			return setCondition(t, client, obj, typ)
		}
	}
	approve := cond(certificatesv1.CertificateApproved)
	nodeReq := request{CN: "system:node:o1", Orgs: []string{"system:nodes"}}
	servingReq := request{CN: "system:node:o1", Orgs: []string{"system:nodes"}, DNS: []string{"o1.example.com"}}
	for _, tc := range []struct {
		name       string
		signer     string
		req        request
		usages     []certificatesv1.KeyUsage
		steps      []step
		want       sign.Outcome
		wantReason string
	}{
		{"pending", certificatesv1.KubeAPIServerClientKubeletSignerName, nodeReq, clientUsages, nil, sign.Skipped, sign.SkipNotApproved},
		{"denied", certificatesv1.KubeAPIServerClientKubeletSignerName, nodeReq, clientUsages, []step{cond(certificatesv1.CertificateDenied)}, sign.Skipped, sign.SkipDenied},
		{"approved then failed", certificatesv1.KubeAPIServerClientKubeletSignerName, nodeReq, clientUsages, []step{approve, cond(certificatesv1.CertificateFailed)}, sign.Skipped, sign.SkipAlreadyFailed},
		{"foreign signer", "example.com/other", nodeReq, clientUsages, []step{approve}, sign.Skipped, sign.SkipForeignSigner},
		{"kubelet client", certificatesv1.KubeAPIServerClientKubeletSignerName, nodeReq, clientUsages, []step{approve}, sign.Signed, ""},
		{"kubelet client with server auth", certificatesv1.KubeAPIServerClientKubeletSignerName, nodeReq, []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth, certificatesv1.UsageServerAuth}, []step{approve}, sign.Failed, sign.ReasonSignerValidationFailure},
		{"kubelet serving", certificatesv1.KubeletServingSignerName, servingReq, servingUsages, []step{approve}, sign.Signed, ""},
		{"kubelet serving with client auth", certificatesv1.KubeletServingSignerName, servingReq, append(slices.Clone(servingUsages), certificatesv1.UsageClientAuth), []step{approve}, sign.Failed, sign.ReasonSignerValidationFailure},
		{"kubelet serving without SAN", certificatesv1.KubeletServingSignerName, nodeReq, servingUsages, []step{approve}, sign.Failed, sign.ReasonSignerValidationFailure},
		{"apiserver client", certificatesv1.KubeAPIServerClientSignerName, request{CN: "alice", Orgs: []string{"devs"}}, []certificatesv1.KeyUsage{certificatesv1.UsageClientAuth}, []step{approve}, sign.Signed, ""},
		{"apiserver client with server auth", certificatesv1.KubeAPIServerClientSignerName, request{CN: "alice"}, []certificatesv1.KeyUsage{certificatesv1.UsageClientAuth, certificatesv1.UsageServerAuth}, []step{approve}, sign.Failed, sign.ReasonSignerValidationFailure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := create(t, client, csrObject(uniqueName(t), tc.signer, tc.req.PEM(t, newKey(t)), tc.usages, nil))
			for _, s := range tc.steps {
				obj = s(t, obj)
			}
			_, res, err := signer.Sign(ctx, client, obj)
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tc.want || res.Reason != tc.wantReason {
				t.Fatalf("result %s/%s (%s), want %s/%s", res.Outcome, res.Reason, res.Message, tc.want, tc.wantReason)
			}
			stored, err := client.CertificatesV1().CertificateSigningRequests().Get(ctx, obj.Name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if issued := len(stored.Status.Certificate) > 0; issued != (tc.want == sign.Signed) {
				t.Errorf("certificate stored = %v, want %v", issued, tc.want == sign.Signed)
			}
			failedByUs := slices.ContainsFunc(stored.Status.Conditions, func(c certificatesv1.CertificateSigningRequestCondition) bool {
				return c.Type == certificatesv1.CertificateFailed && c.Reason == sign.ReasonSignerValidationFailure && c.Message == res.Message && c.Message != ""
			})
			if failedByUs != (tc.want == sign.Failed) {
				t.Errorf("Failed/SignerValidationFailure condition = %v, want %v; conditions %+v", failedByUs, tc.want == sign.Failed, stored.Status.Conditions)
			}
			if tc.want == sign.Signed {
				pool := x509.NewCertPool()
				pool.AddCert(cp.CA.Cert)
				if _, err := parseCert(t, stored.Status.Certificate).Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
					t.Errorf("issued certificate does not chain to the cluster CA: %v", err)
				}
			}
			// A second pass changes nothing: failures are not retried, certificates not re-issued.
			_, again, err := signer.Sign(ctx, client, stored)
			if err != nil || again.Outcome != sign.Skipped {
				t.Errorf("second Sign: %+v, %v; want Skipped", again, err)
			}
		})
	}
}

// TestIssuedKubeletCertificateAuthenticates: a certificate signed from the cluster CA's
// files is accepted by the API server as the node's identity.
func TestIssuedKubeletCertificateAuthenticates(t *testing.T) {
	testenv.Need(t)
	ctx := context.Background()
	client := cp.Client()
	obj, key := kubeletClientCSR(t, uniqueName(t), "authn-node")
	approved := setCondition(t, client, create(t, client, obj), certificatesv1.CertificateApproved)
	written, res, err := clusterSigner(t).Sign(ctx, client, approved)
	if err != nil || res.Outcome != sign.Signed {
		t.Fatalf("Sign: %+v, %v", res, err)
	}
	cfg := cp.AnonymousConfig()
	cfg.CertData = written.Status.Certificate
	cfg.KeyData = ecKeyPEM(t, key)
	review, err := kubernetes.NewForConfigOrDie(cfg).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("SelfSubjectReview with the issued certificate: %v", err)
	}
	info := review.Status.UserInfo
	if info.Username != "system:node:authn-node" || !slices.Contains(info.Groups, "system:nodes") {
		t.Errorf("authenticated as %q %v, want system:node:authn-node in system:nodes", info.Username, info.Groups)
	}

	// The same request signed by a CA the server does not trust is refused.
	other := mustCA(t, sign.SelfSignedOptions{})
	untrusted, err := sign.Issue(other, approved, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cfg.CertData = untrusted
	_, err = kubernetes.NewForConfigOrDie(cfg).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if !apierrors.IsUnauthorized(err) {
		t.Errorf("untrusted CA: %v, want 401", err)
	}
}

func ecKeyPEM(t testing.TB, key *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}

// TestConcurrentSignOnce: two signers racing on the same approved CSR write one
// certificate; the loser sees it and skips.
func TestConcurrentSignOnce(t *testing.T) {
	testenv.Need(t)
	ctx := context.Background()
	client := cp.Client()
	signer := clusterSigner(t)
	obj, _ := kubeletClientCSR(t, uniqueName(t), "race")
	approved := setCondition(t, client, create(t, client, obj), certificatesv1.CertificateApproved)
	const racers = 4
	results := make([]sign.Result, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			var err error
			_, results[i], err = signer.Sign(ctx, client, approved)
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var signed []byte
	count := 0
	for _, r := range results {
		switch {
		case r.Outcome == sign.Signed:
			count++
			signed = r.Certificate
		case r.Outcome != sign.Skipped || r.Reason != sign.SkipIssued:
			t.Errorf("loser result %+v, want Skipped/%s", r, sign.SkipIssued)
		}
	}
	if count != 1 {
		t.Fatalf("%d racers signed, want exactly 1", count)
	}
	stored, err := client.CertificatesV1().CertificateSigningRequests().Get(ctx, approved.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(stored.Status.Certificate) != string(signed) {
		t.Error("stored certificate is not the one the winner reported")
	}
}

func TestNewSignerConfig(t *testing.T) {
	ca := mustCA(t, sign.SelfSignedOptions{})
	for _, tc := range []struct {
		name    string
		cfg     sign.SignerOptions
		wantErr bool
		handles []string
	}{
		{"shared CA serves every built-in signer", sign.SignerOptions{CA: ca}, false, sign.BuiltinSigners()},
		{"per-signer CA serves only it", sign.SignerOptions{SignerCAs: map[string]sign.CAProvider{certificatesv1.KubeletServingSignerName: ca}}, false, []string{certificatesv1.KubeletServingSignerName}},
		{"no CA", sign.SignerOptions{}, true, nil},
		{"unknown signer", sign.SignerOptions{SignerCAs: map[string]sign.CAProvider{"example.com/x": ca}}, true, nil},
		{"negative duration", sign.SignerOptions{CA: ca, SigningDuration: -time.Hour}, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := sign.NewSigner(tc.cfg)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			for _, name := range append(sign.BuiltinSigners(), "example.com/x") {
				if got, want := s.Handles(name), slices.Contains(tc.handles, name); got != want {
					t.Errorf("Handles(%q) = %v, want %v", name, got, want)
				}
			}
		})
	}
}
