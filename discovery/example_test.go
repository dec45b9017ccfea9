package discovery_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	certutil "k8s.io/client-go/util/cert"

	"github.com/tlsbootstrap/tlsbootstrap/discovery"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// The check of a detached signature the bootstrap signer stores as jws-kubeconfig-<id>
// (k8s.io/cluster-bootstrap's test vector).
func ExampleVerify() {
	tok := token.Token{ID: "joshua", Secret: "my voice is my passcode"}
	content := []byte("Hello from the other side. I must have called a thousand times.")
	sig := "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..VShe2taLd-YTrmWuRkcL_8QTNDHYxQIEBsAYYiIj1_8"
	fmt.Println(discovery.Verify(sig, content, tok))
	err := discovery.Verify(sig, []byte("tampered"), tok)
	fmt.Println(errors.Is(err, discovery.ErrBadSignature))
	// Output:
	// <nil>
	// true
}

// The pin an admin hands to joining nodes (`--discovery-token-ca-cert-hash`), and the
// check a node makes against the CA it discovered.
func ExamplePin() {
	certs, err := certutil.ParseCertsPEM([]byte(fixedCA)) // e.g. os.ReadFile("/etc/kubernetes/pki/ca.crt")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(discovery.Pin(certs[0]))

	pins, err := discovery.ParsePins([]string{"SHA256:88D5F710EB847D81C7C56925A16CD8F3862A6B1B44D7F998437B34F0ACEFF529"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pins.Check(certs...))
	// Output:
	// sha256:88d5f710eb847d81c7c56925a16cd8f3862a6b1b44d7f998437b34f0aceff529
	// <nil>
}

// The admin side of token discovery, as kubeadm init sets it up: publish cluster-info
// once, then keep it signed for every token with the signing usage.
func ExampleNewClusterInfoSigner() {
	cfg, err := clientcmd.BuildConfigFromFlags("", "/etc/kubernetes/admin.conf")
	if err != nil {
		log.Fatal(err)
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	caPEM, err := os.ReadFile("/etc/kubernetes/pki/ca.crt")
	if err != nil {
		log.Fatal(err)
	}
	if err := discovery.PublishClusterInfo(ctx, client, "https://10.0.0.1:6443", caPEM); err != nil {
		log.Fatal(err)
	}
	if err := discovery.NewClusterInfoSigner(client, token.WatchOptions{}).Run(ctx); err != nil {
		log.Fatal(err)
	}
}
