package tokenctl_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/utils/clock"
	testingclock "k8s.io/utils/clock/testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/node"
	"github.com/tlsbootstrap/tlsbootstrap/rbac"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// signWith approves the CSR name by hand and signs it with ca, using clock now, as a
// signer process would; the certificate is written through /status as admin.
func signWith(t *testing.T, name string, ca sign.CAProvider, now clock.PassiveClock) {
	t.Helper()
	ctx := context.Background()
	mustRun(t, "csr", "approve", admin(), name)
	s, err := sign.NewSigner(sign.SignerOptions{CA: ca, Clock: now})
	if err != nil {
		t.Fatal(err)
	}
	obj, err := cp.Client().CertificatesV1().CertificateSigningRequests().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, res, err := s.Sign(ctx, cp.Client(), obj); err != nil || res.Outcome != sign.Signed {
		t.Fatalf("signing %s: %v %+v", name, err, res)
	}
}

// explainOut runs `tokenctl csr explain` and returns what it printed.
func explainOut(t *testing.T, name string, flags ...string) string {
	t.Helper()
	return mustRun(t, append([]string{"csr", "explain", admin(), name}, flags...)...)
}

// wantAll checks that out holds each of want, comparing with runs of spaces (the
// table's column padding) collapsed.
func wantAll(t *testing.T, out string, want ...string) {
	t.Helper()
	flat := strings.Join(strings.Fields(out), " ")
	for _, w := range want {
		if !strings.Contains(flat, strings.Join(strings.Fields(w), " ")) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// TestExplainCommonFailures covers the five common failures of a node's bootstrap: each
// gives the message and the fix the README's troubleshooting section quotes.
func TestExplainCommonFailures(t *testing.T) {
	ctx := context.Background()
	clusterCA, err := sign.LoadCA(cp.CACertFile, cp.CAKeyFile)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("expired token (before any CSR: the node's error)", func(t *testing.T) {
		tok := testenv.WriteToken(t, cp, time.Now().Add(-time.Minute))
		t.Cleanup(func() { _ = token.Delete(ctx, cp.Client(), tok.ID) })
		cfg, err := kubeconfig.BootstrapConfig(kubeconfig.BootstrapOptions{Server: cp.Host(), CAData: cp.ServingCAPEM(), Token: tok.Bearer()})
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		path := filepath.Join(dir, "bootstrap.kubeconfig")
		if err := kubeconfig.Write(path, cfg); err != nil {
			t.Fatal(err)
		}
		bctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		_, err = node.Bootstrap(bctx, node.Options{BootstrapKubeconfig: path, Kubeconfig: filepath.Join(dir, "kubelet.kubeconfig"),
			CertDir: filepath.Join(dir, "pki"), NodeName: "expired-token-node", ServerWaitTimeout: 10 * time.Second,
			AuthRetryGrace: new(time.Duration(0))}) // fail at once; node's TestWaitForServerKeepsTheServersError covers a grace that outlasts the wait
		if !errors.Is(err, node.ErrTokenRejected) {
			t.Fatalf("node error %v, want %v", err, node.ErrTokenRejected)
		}
		wantAll(t, err.Error(), "401 Unauthorized", "expired", "create a new token and bootstrap kubeconfig")
		// And tokenctl list shows which token it is.
		wantAll(t, mustRun(t, "list", admin()), tok.ID+".")
	})

	t.Run("missing binding", func(t *testing.T) {
		names, requester := submitCSRs(t, []string{"no-binding"}, []*int32{nil})
		out := explainOut(t, names[0])
		wantAll(t, out,
			"Condition:     Pending",
			"Recognized as: nodeclient",
			"Not selfnodeclient: rule RequesterIsSubject",
			"Review nodeclient: denied",
			`SubjectAccessReview did not allow the requester "`+requester+`"`,
			"Fix: bind ClusterRole system:certificates.k8s.io:certificatesigningrequests:nodeclient to group system:bootstrappers:kubeadm:default-node-token",
			"--clusterrole=system:certificates.k8s.io:certificatesigningrequests:nodeclient --group=system:bootstrappers:kubeadm:default-node-token")
		// Doing what the fix says makes the review pass.
		preset := rbac.Preset{Name: "fix", ClusterRoleBindings: rbac.KubeadmPreset(token.KubeadmDefaultGroup).ClusterRoleBindings[1:2]}
		if err := rbac.Apply(ctx, cp.Client(), preset); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = rbac.Revoke(ctx, cp.Client(), preset) })
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
			out = explainOut(t, names[0])
			return strings.Contains(strings.Join(strings.Fields(out), " "), "Review nodeclient: allowed"), nil
		})
		if err != nil {
			t.Fatalf("after the binding:\n%s", out)
		}
		wantAll(t, out, "no approver is acting on it")
	})

	t.Run("no signer", func(t *testing.T) {
		names, _ := submitCSRs(t, []string{"no-signer"}, []*int32{nil})
		mustRun(t, "csr", "approve", admin(), names[0])
		wantAll(t, explainOut(t, names[0]),
			"Condition:     Approved",
			"reason ManuallyApproved: This CSR was approved manually.",
			"but no certificate was issued",
			"Fix: check that a signer for kubernetes.io/kube-apiserver-client-kubelet runs")
		wantAll(t, explainOut(t, names[0], "--signer=kubernetes.io/kubelet-serving"),
			"no signer is configured for kubernetes.io/kube-apiserver-client-kubelet",
			"Fix: run a signer for kubernetes.io/kube-apiserver-client-kubelet")
	})

	t.Run("CA not trusted by the API server", func(t *testing.T) {
		other, err := sign.NewSelfSignedCA(sign.SelfSignedOptions{CommonName: "not-the-client-ca"})
		if err != nil {
			t.Fatal(err)
		}
		names, _ := submitCSRs(t, []string{"untrusted", "trusted"}, []*int32{nil, nil})
		signWith(t, names[0], other, clock.RealClock{})
		signWith(t, names[1], clusterCA, clock.RealClock{})
		wantAll(t, explainOut(t, names[0]),
			"Condition:     Approved,Issued",
			"Issuer:        CN=not-the-client-ca",
			"Trusted:       NO",
			`the certificate's issuer "CN=not-the-client-ca" is not a CA the API server trusts for client certificates`,
			"401 Unauthorized",
			"Fix: give the signer the CA of the API server's --client-ca-file")
		out := explainOut(t, names[1])
		wantAll(t, out, "Trusted:       yes", "No problems found.", "Serial:", "Valid:")
	})

	t.Run("clock skew", func(t *testing.T) {
		names, _ := submitCSRs(t, []string{"skewed"}, []*int32{nil})
		signWith(t, names[0], clusterCA, testingclock.NewFakePassiveClock(time.Now().Add(time.Hour)))
		wantAll(t, explainOut(t, names[0]),
			"clock skew: the certificate is not valid yet by this machine's clock",
			"so the signer's clock was about 1h0m0s ahead when it signed",
			"x509: certificate has expired or is not yet valid",
			"Fix: synchronize the clocks (NTP/chrony)")
	})

	t.Run("unknown CSR", func(t *testing.T) {
		_, err := run(t, "csr", "explain", admin(), "node-csr-nope")
		if err == nil || !strings.Contains(err.Error(), `"node-csr-nope" not found`) {
			t.Fatalf("error %v", err)
		}
	})
}
