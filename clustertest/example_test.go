package clustertest_test

import (
	"fmt"
	"log"

	"github.com/tlsbootstrap/tlsbootstrap/clustertest"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

// Example starts the test control plane for an importer's own test, trusting the
// importer's signing CA for client certificates (its certificate only), and runs the
// importer's code against it. It needs the binaries (`go run github.com/tlsbootstrap/tlsbootstrap/cmd/tlsbootstrap-assets@latest etcd kube-apiserver` builds
// them), so it is compiled but not run.
func Example() {
	myCA, err := sign.NewSelfSignedCA(sign.SelfSignedOptions{CommonName: "my installer's CA"})
	if err != nil {
		log.Fatal(err)
	}
	c, err := clustertest.Start(clustertest.Options{ClientCAs: myCA.CertPEM()})
	if err != nil {
		log.Fatal(err) // names the command that builds the binaries when they are missing
	}
	defer c.Stop()
	fmt.Println("API server at", c.Server)
	// c.Config is an admin; c.Client() an admin client; c.TokenConfig(tok.Bearer()) a
	// bootstrap token's; c.ServingCA goes into kubeconfigs and cluster-info.
}
