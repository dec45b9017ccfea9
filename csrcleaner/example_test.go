package csrcleaner_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tlsbootstrap/tlsbootstrap/csrcleaner"
)

// The cleaner's rules, without an API server: the zero Retention is kube-controller-manager's.
func ExampleRetention_ShouldDelete() {
	now := time.Now()
	pending := &certificatesv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{
		Name: "node-csr-old", CreationTimestamp: metav1.NewTime(now.Add(-25 * time.Hour)),
	}}
	fmt.Println(csrcleaner.Retention{}.ShouldDelete(pending, now))
	// Output: true pending for more than 24h0m0s
}

// Deleting old CSRs every hour, as kube-controller-manager's csrcleaner does.
func ExampleNew() {
	cfg, err := clientcmd.BuildConfigFromFlags("", os.Getenv("KUBECONFIG"))
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := csrcleaner.New(kubernetes.NewForConfigOrDie(cfg), csrcleaner.Options{}).Run(ctx); err != nil {
		log.Fatal(err)
	}
}
