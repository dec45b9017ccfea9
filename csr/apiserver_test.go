package csr_test

import (
	"context"
	"crypto/x509/pkix"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"

	authenticationv1 "k8s.io/api/authentication/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// The kubelet's bootstrap against the real API server: a bootstrap token creates the
// node client CSR, an admin approves and signs it, Request returns a certificate that
// authenticates as the node.
func TestRequestNodeClientCertificate(t *testing.T) {
	testenv.Need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, bootstrapUser := bootstrapClient(t)
	node := nodeName(t)
	key := mustKey(t, csr.ECDSAP256)
	spec, err := csr.NodeClientSpec(node, key, nil)
	if err != nil {
		t.Fatal(err)
	}

	type result struct {
		cert []byte
		name string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		cert, name, err := csr.Request(ctx, client, csr.RequestSpec{Spec: spec, Key: key})
		done <- result{cert, name, err}
	}()
	obj := waitExists(t, spec.Name)
	if obj.Spec.Username != bootstrapUser || !slices.Contains(obj.Spec.Groups, "system:bootstrappers") {
		t.Errorf("CSR created by %q %v, want %s in system:bootstrappers", obj.Spec.Username, obj.Spec.Groups, bootstrapUser)
	}
	if obj.Spec.SignerName != certificatesv1.KubeAPIServerClientKubeletSignerName {
		t.Errorf("signer %q", obj.Spec.SignerName)
	}
	approveAndSign(t, spec.Name)
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.name != spec.Name {
		t.Errorf("name %q, want %q", res.name, spec.Name)
	}

	keyPEM, err := csr.MarshalKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	cfg := cp.AnonymousConfig()
	cfg.CertData, cfg.KeyData = res.cert, keyPEM
	review, err := kubernetes.NewForConfigOrDie(cfg).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if u := review.Status.UserInfo; u.Username != "system:node:"+node || !slices.Contains(u.Groups, "system:nodes") {
		t.Errorf("issued certificate authenticates as %q %v, want system:node:%s in system:nodes", u.Username, u.Groups, node)
	}

	downloaded, err := csr.Download(ctx, client, spec.Name)
	if err != nil {
		t.Fatal(err)
	}
	if string(downloaded) != string(res.cert) {
		t.Error("Download returned another certificate than Request")
	}
}

// Every way a wait ends without a certificate, each with an error that says why. The
// change is made while Wait is already watching.
func TestWaitOutcomes(t *testing.T) {
	testenv.Need(t)
	client, _ := bootstrapClient(t)
	tests := []struct {
		name    string
		timeout time.Duration
		act     func(t *testing.T, name string)
		check   func(error) bool
		want    string
	}{
		{
			name: "denied",
			act: func(t *testing.T, name string) {
				setCondition(t, name, certificatesv1.CertificateDenied, "NotOnThisCluster", "node is unknown")
			},
			check: func(err error) bool {
				var e *csr.DeniedError
				return errors.As(err, &e) && e.Reason == "NotOnThisCluster"
			},
			want: `denied (reason "NotOnThisCluster"): node is unknown`,
		},
		{
			name: "failed",
			act: func(t *testing.T, name string) {
				setCondition(t, name, certificatesv1.CertificateApproved, "TestApproved", "")
				setCondition(t, name, certificatesv1.CertificateFailed, "SignerValidationFailure", "CN must start with system:node:")
			},
			check: func(err error) bool {
				var e *csr.FailedError
				return errors.As(err, &e) && e.Reason == "SignerValidationFailure"
			},
			want: "SignerValidationFailure",
		},
		{
			name: "deleted",
			act: func(t *testing.T, name string) {
				if err := cp.Client().CertificatesV1().CertificateSigningRequests().Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
					t.Fatal(err)
				}
			},
			check: func(err error) bool { var e *csr.DeletedError; return errors.As(err, &e) },
			want:  "was deleted",
		},
		{
			name:    "deadline while pending",
			timeout: 2 * time.Second,
			act:     func(*testing.T, string) {},
			check: func(err error) bool {
				var e *csr.WaitError
				return errors.As(err, &e) && errors.Is(err, context.DeadlineExceeded)
			},
			want: csr.StatePendingApproval,
		},
		{
			name:    "deadline while approved without certificate",
			timeout: 2 * time.Second,
			act: func(t *testing.T, name string) {
				setCondition(t, name, certificatesv1.CertificateApproved, "TestApproved", "")
			},
			check: func(err error) bool { return errors.Is(err, context.DeadlineExceeded) },
			want:  csr.StateApprovedNoCert,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 20 * time.Second
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			key := mustKey(t, csr.ECDSAP256)
			spec, err := csr.NodeClientSpec(nodeName(t), key, nil)
			if err != nil {
				t.Fatal(err)
			}
			obj, err := csr.Submit(ctx, client, csr.New(spec), key)
			if err != nil {
				t.Fatal(err)
			}
			errc := make(chan error, 1)
			go func() {
				_, err := csr.Wait(ctx, client, obj.Name, obj.UID)
				errc <- err
			}()
			time.Sleep(300 * time.Millisecond) // let Wait reach its watch
			tc.act(t, obj.Name)
			err = <-errc
			if err == nil || !tc.check(err) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), obj.Name) {
				t.Fatalf("got %v (%T), want an error naming %s and containing %q", err, err, obj.Name, tc.want)
			}
		})
	}
}

// A retried bootstrap with the same key finds its CSR; a foreign CSR under the same name
// is refused with a reason.
func TestSubmitExisting(t *testing.T) {
	testenv.Need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, _ := bootstrapClient(t)
	admin := cp.Client()

	t.Run("same request is reused", func(t *testing.T) {
		key := mustKey(t, csr.ECDSAP256)
		spec, err := csr.NodeClientSpec(nodeName(t), key, nil)
		if err != nil {
			t.Fatal(err)
		}
		first, err := csr.Submit(ctx, client, csr.New(spec), key)
		if err != nil {
			t.Fatal(err)
		}
		// A retry makes a new request (new signature) with the same key: same name.
		spec2, err := csr.NodeClientSpec(nodeFromSpec(t, spec), key, nil)
		if err != nil {
			t.Fatal(err)
		}
		second, err := csr.Submit(ctx, client, csr.New(spec2), key)
		if err != nil {
			t.Fatal(err)
		}
		if second.UID != first.UID {
			t.Fatalf("second Submit made a new object (UID %s, first %s)", second.UID, first.UID)
		}
		approveAndSign(t, first.Name)
		cert, name, err := csr.Request(ctx, client, csr.RequestSpec{Spec: spec2, Key: key})
		if err != nil || name != first.Name || len(cert) == 0 {
			t.Fatalf("Request over the existing issued CSR: %v (name %s)", err, name)
		}
	})

	ours := mustKey(t, csr.ECDSAP256)
	tests := []struct {
		name     string
		existing func(t *testing.T, spec csr.Spec) csr.Spec
		want     string
	}{
		{"other key", func(t *testing.T, spec csr.Spec) csr.Spec {
			other, err := csr.NodeClientRequest(nodeFromSpec(t, spec), mustKey(t, csr.ECDSAP256))
			if err != nil {
				t.Fatal(err)
			}
			spec.Request = other
			return spec
		}, "signed by another private key"},
		{"other subject", func(t *testing.T, spec csr.Spec) csr.Spec {
			other, err := csr.NewRequest(csr.RequestOptions{Subject: pkix.Name{CommonName: "system:node:intruder", Organization: []string{"system:nodes"}}}, ours)
			if err != nil {
				t.Fatal(err)
			}
			spec.Request = other
			return spec
		}, "subject is"},
		{"other signer", func(t *testing.T, spec csr.Spec) csr.Spec {
			spec.SignerName = certificatesv1.KubeAPIServerClientSignerName
			return spec
		}, "signer is"},
		{"other usages", func(t *testing.T, spec csr.Spec) csr.Spec {
			spec.Usages = []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment, certificatesv1.UsageClientAuth}
			return spec
		}, "usages are"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := csr.NodeClientSpec(nodeName(t), ours, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := admin.CertificatesV1().CertificateSigningRequests().Create(ctx, csr.New(tc.existing(t, spec)), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			_, err = csr.Submit(ctx, client, csr.New(spec), ours)
			var ie *csr.IncompatibleError
			if !errors.As(err, &ie) || ie.Name != spec.Name || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an *IncompatibleError for %s containing %q", err, spec.Name, tc.want)
			}
		})
	}
}

// The API server validates CSRs itself; its refusals come back as clear errors that keep
// their API status.
func TestServerRejections(t *testing.T) {
	testenv.Need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, _ := bootstrapClient(t)
	key := mustKey(t, csr.ECDSAP256)
	tests := []struct {
		name   string
		modify func(*csr.Spec)
		want   string
	}{
		{"expirationSeconds under 600", func(s *csr.Spec) { s.ExpirationSeconds = csr.DurationSeconds(599 * time.Second) }, "spec.expirationSeconds"},
		{"negative expirationSeconds", func(s *csr.Spec) { v := int32(-420); s.ExpirationSeconds = &v }, "spec.expirationSeconds"},
		{"no usages", func(s *csr.Spec) { s.Usages = nil }, "spec.usages"},
		{"duplicate usages", func(s *csr.Spec) {
			s.Usages = []certificatesv1.KeyUsage{certificatesv1.UsageClientAuth, certificatesv1.UsageClientAuth}
		}, "spec.usages"},
		{"unknown usage", func(s *csr.Spec) { s.Usages = []certificatesv1.KeyUsage{"teleport"} }, "spec.usages"},
		{"legacy-unknown signer", func(s *csr.Spec) { s.SignerName = "kubernetes.io/legacy-unknown" }, "spec.signerName"},
		{"no signer", func(s *csr.Spec) { s.SignerName = "" }, "spec.signerName"},
		{"request not PEM", func(s *csr.Spec) { s.Request = []byte("not a request") }, "spec.request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := csr.NodeClientSpec(nodeName(t), key, nil)
			if err != nil {
				t.Fatal(err)
			}
			tc.modify(&spec)
			_, err = csr.Submit(ctx, client, csr.New(spec), key)
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), spec.Name) {
				t.Fatalf("got %v, want an Invalid error naming %s and %s", err, spec.Name, tc.want)
			}
		})
	}
	// 600 seconds is the smallest lifetime the server accepts.
	spec, err := csr.NodeClientSpec(nodeName(t), key, csr.DurationSeconds(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := csr.Submit(ctx, client, csr.New(spec), key); err != nil {
		t.Fatalf("expirationSeconds 600: %v", err)
	}
}

func TestDownload(t *testing.T) {
	testenv.Need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, _ := bootstrapClient(t)
	key := mustKey(t, csr.ECDSAP256)
	spec, err := csr.NodeClientSpec(nodeName(t), key, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := csr.Submit(ctx, client, csr.New(spec), key); err != nil {
		t.Fatal(err)
	}
	_, err = csr.Download(ctx, client, spec.Name)
	var ni *csr.NotIssuedError
	if !errors.As(err, &ni) || ni.State != csr.StatePendingApproval {
		t.Fatalf("pending CSR: %v, want *NotIssuedError pending approval", err)
	}
	approveAndSign(t, spec.Name)
	cert, err := csr.Download(ctx, client, spec.Name)
	if err != nil {
		t.Fatal(err)
	}
	if err := csr.VerifyIssued(spec.Name, cert, spec.Request, key); err != nil {
		t.Fatal(err)
	}
	if _, err := csr.Download(ctx, client, "no-such-csr"); !apierrors.IsNotFound(err) || !strings.Contains(err.Error(), "no-such-csr") {
		t.Fatalf("missing CSR: %v, want NotFound naming it", err)
	}
}

// nodeFromSpec recovers the node name from a node client Spec's request.
func nodeFromSpec(t *testing.T, spec csr.Spec) string {
	t.Helper()
	req, err := csr.ParseRequestPEM(spec.Request)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(req.Subject.CommonName, csr.NodeUserPrefix)
}
