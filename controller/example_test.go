package controller_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/go-logr/logr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

// ExampleRun runs kube-controller-manager's CSR controllers, plus serving approval, in an
// installer's process, signing with a CA held in memory (sign.NewFileCA would read files
// and reload them when they change). The context's logger is the controllers' logger: a
// logr.Discard() silences them. It needs a cluster, so it is compiled but not run.
func ExampleRun() {
	cfg, err := clientcmd.BuildConfigFromFlags("", os.Getenv("KUBECONFIG"))
	if err != nil {
		log.Fatal(err)
	}
	// client-go's default 5 queries per second would make a join storm crawl; the
	// controllers write about twice per CSR.
	cfg.QPS, cfg.Burst = 500, 1000
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		log.Fatal(err)
	}
	var caCertPEM, caKeyPEM []byte // the cluster CA, from the installer's secret store
	ca, err := sign.ParseCA(caCertPEM, caKeyPEM)
	if err != nil {
		log.Fatal(err)
	}
	ctx := logr.NewContext(context.Background(), logr.Discard())
	err = controller.Run(ctx, client, controller.Options{
		Controllers:      []string{controller.CSRApproving, controller.ServingApproving, controller.CSRSigning, controller.CSRCleaner},
		ClusterSigningCA: ca,
	})
	if err != nil {
		log.Fatal(err)
	}
}

// DefaultOptions are what Run fills in for the fields left zero, and csr-controller's
// flag defaults.
func ExampleDefaultOptions() {
	d := controller.DefaultOptions()
	fmt.Println(d.Controllers, d.Workers, d.SigningDuration, *d.SARCacheTTL)
	// Output: [csrapproving csrsigning csrcleaner] 16 8760h0m0s 5s
}
