package clustertest_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tlsbootstrap/tlsbootstrap/clustertest"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

func whoAmI(t *testing.T, cfg *rest.Config) string {
	t.Helper()
	review, err := kubernetes.NewForConfigOrDie(cfg).AuthenticationV1().SelfSubjectReviews().Create(context.Background(), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("SelfSubjectReview: %v", err)
	}
	return review.Status.UserInfo.Username
}

// TestCluster: the API server trusts the caller's client CA alongside its own (given as a
// certificate only), its admin config still works, and a bootstrap token authenticates.
func TestCluster(t *testing.T) {
	mine, err := sign.NewSelfSignedCA(sign.SelfSignedOptions{CommonName: "an importer's signer"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := clustertest.Start(clustertest.Options{ClientCAs: mine.CertPEM()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop() })

	if got := whoAmI(t, c.Config); got == "" {
		t.Error("the admin config does not authenticate")
	}
	// A client certificate from the caller's CA authenticates.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "importer-user"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, mine.Cert, key.Public(), mine.Key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	user := &rest.Config{Host: c.Server, TLSClientConfig: rest.TLSClientConfig{
		CAData:   c.ServingCA,
		CertData: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyData:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}}
	if got := whoAmI(t, user); got != "importer-user" {
		t.Errorf("a certificate of the caller's CA authenticates as %q, want importer-user", got)
	}
	// A bootstrap token authenticates as system:bootstrap:<id>.
	tok, err := token.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := token.Create(context.Background(), c.Client(), token.DefaultSpec(tok)); err != nil {
		t.Fatal(err)
	}
	var got string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		review, err := kubernetes.NewForConfigOrDie(c.TokenConfig(tok.Bearer())).AuthenticationV1().SelfSubjectReviews().Create(context.Background(), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err == nil {
			got = review.Status.UserInfo.Username
			break
		}
	}
	if got != "system:bootstrap:"+tok.ID {
		t.Errorf("the bootstrap token authenticates as %q, want system:bootstrap:%s", got, tok.ID)
	}
}

// TestMissingBinariesNameTheCommand: without binaries, Start says how to build them from
// any module.
func TestMissingBinariesNameTheCommand(t *testing.T) {
	t.Setenv("KUBEBUILDER_ASSETS", t.TempDir())
	_, err := clustertest.Start(clustertest.Options{})
	if err == nil || !strings.Contains(err.Error(), clustertest.AssetsCommand) {
		t.Fatalf("Start without binaries: %v; want an error naming %q", err, clustertest.AssetsCommand)
	}
}
