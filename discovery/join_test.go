package discovery_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	certutil "k8s.io/client-go/util/cert"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/discovery"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/node"
	"github.com/tlsbootstrap/tlsbootstrap/rbac"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// A node joins knowing only the server address, a token and the CA pin, as with
// `kubeadm join <server> --token <token> --discovery-token-ca-cert-hash <pin>`: the
// controller process signs cluster-info and approves and signs the node's CSR.
func TestJoinWithTokenServerAndPin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin := cp.Client()

	// Admin side, as kubeadm init: RBAC, cluster-info, a default token, the controllers.
	if err := rbac.Apply(ctx, admin, rbac.KubeadmPreset("")); err != nil {
		t.Fatal(err)
	}
	publish(t)
	tok, err := token.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := token.Create(ctx, admin, token.DefaultSpec(tok)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = token.Delete(context.Background(), admin, tok.ID) })
	ctrlCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- controller.Run(ctrlCtx, admin, controller.Options{
			Controllers:      []string{controller.CSRApproving, controller.CSRSigning, controller.BootstrapSigner},
			ClusterSigningCA: cp.CA.Signing(),
		})
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("controller.Run: %v", err)
		}
	})
	caCerts, err := certutil.ParseCertsPEM(cp.ServingCAPEM())
	if err != nil {
		t.Fatal(err)
	}
	pin := discovery.Pin(caCerts[0])

	// Node side: nothing but these three values, as kubeadm join's flags.
	dir := t.TempDir()
	const nodeName = "joined-by-discovery"
	join := node.Discovery{Server: cp.Host(), Token: tok, CACertHashes: []string{pin}, Timeout: 30 * time.Second}
	res, err := node.Join(ctx, join, node.Options{
		Kubeconfig: filepath.Join(dir, "kubelet.conf"),
		CertDir:    filepath.Join(dir, "pki"),
		NodeName:   nodeName,
	})
	if err != nil {
		t.Fatalf("node.Join: %v", err)
	}
	// Nothing on disk but the node's own files, and none holds the token secret.
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if rel, _ := filepath.Rel(dir, path); rel != "kubelet.conf" && !strings.HasPrefix(rel, "pki/kubelet-client-") {
			t.Errorf("Join wrote %s", rel)
		}
		if data, err := os.ReadFile(path); err == nil && bytes.Contains(data, []byte(tok.Secret)) {
			t.Errorf("%s holds the token secret", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if cn := res.Certificate.Subject.CommonName; cn != "system:node:"+nodeName {
		t.Errorf("certificate CN %q", cn)
	}

	// The node kubeconfig works and is the node's identity.
	rc, err := kubeconfig.RESTConfig(res.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	review, err := kubernetes.NewForConfigOrDie(rc).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("node kubeconfig does not authenticate: %v", err)
	}
	if got := review.Status.UserInfo.Username; got != "system:node:"+nodeName {
		t.Errorf("node kubeconfig authenticates as %q", got)
	}

	// Joining again finds the node's kubeconfig usable: no discovery, no request.
	again, err := node.Join(ctx, join, node.Options{Kubeconfig: res.Kubeconfig, CertDir: filepath.Join(dir, "pki"), NodeName: nodeName})
	if err != nil || !again.Skipped {
		t.Errorf("second Join = %+v, %v; want Skipped", again, err)
	}
}
