package kubeconfig_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tlsbootstrap/tlsbootstrap/discovery"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// The bootstrap kubeconfig the seed documents make with `kubectl config set-cluster`,
// `set-credentials` and `set-context`.
func ExampleBootstrapConfig() {
	cfg, err := kubeconfig.BootstrapConfig(kubeconfig.BootstrapOptions{
		Server: "https://10.0.0.1:6443",
		CAFile: "/var/lib/kubernetes/ca.pem",
		Token:  token.NewSecret("07401b.f395accd246ae52d"), // or a token.Token's Bearer()
	})
	if err != nil {
		log.Fatal(err)
	}
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(data))
	// Output:
	// apiVersion: v1
	// clusters:
	// - cluster:
	//     certificate-authority: /var/lib/kubernetes/ca.pem
	//     server: https://10.0.0.1:6443
	//   name: bootstrap
	// contexts:
	// - context:
	//     cluster: bootstrap
	//     user: kubelet-bootstrap
	//   name: bootstrap
	// current-context: bootstrap
	// kind: Config
	// users:
	// - name: kubelet-bootstrap
	//   user:
	//     token: 07401b.f395accd246ae52d
}

// The kubeconfig the kubelet writes after bootstrapping points at the cert-dir's
// current certificate, so rotation needs no kubeconfig change.
func ExampleNodeConfigFromREST() {
	bootstrap := &rest.Config{Host: "https://10.0.0.1:6443", TLSClientConfig: rest.TLSClientConfig{CAFile: "/var/lib/kubernetes/ca.pem"}}
	cfg, err := kubeconfig.NodeConfigFromREST(bootstrap, "/var/lib/kubelet/pki")
	if err != nil {
		log.Fatal(err)
	}
	user := cfg.AuthInfos[cfg.Contexts[cfg.CurrentContext].AuthInfo]
	fmt.Println(cfg.CurrentContext, cfg.Contexts[cfg.CurrentContext].Cluster, cfg.Contexts[cfg.CurrentContext].AuthInfo)
	fmt.Println(user.ClientCertificate)
	fmt.Println(user.ClientKey)
	// Output:
	// default-context default-cluster default-auth
	// /var/lib/kubelet/pki/kubelet-client-current.pem
	// /var/lib/kubelet/pki/kubelet-client-current.pem
}

// A node skips bootstrapping when its kubeconfig is still usable.
func ExampleCheck() {
	st, err := kubeconfig.Check("/var/lib/kubelet/kubeconfig", time.Now())
	switch {
	case err == nil:
		fmt.Printf("usable: %s until %s\n", st.Subject, st.NotAfter)
	case errors.Is(err, kubeconfig.ErrExpired):
		fmt.Printf("expired at %s: bootstrap again\n", st.NotAfter)
	default:
		fmt.Println("bootstrap needed:", err)
	}
}

// A node that knows only the server, a token and the CA pin (kubeadm join's
// --discovery-token and --discovery-token-ca-cert-hash) gets its bootstrap kubeconfig.
func ExampleDiscover() {
	tok, err := token.Parse("07401b.f395accd246ae52d") // from --discovery-token
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := kubeconfig.Discover(context.Background(), kubeconfig.DiscoverOptions{
		Server:       "https://10.0.0.1:6443",
		Token:        tok,
		CACertHashes: []string{"sha256:88d5f710eb847d81c7c56925a16cd8f3862a6b1b44d7f998437b34f0aceff529"},
	})
	var mismatch *discovery.PinMismatchError
	switch {
	case errors.As(err, &mismatch):
		log.Fatalf("this is not the cluster you pinned: expected %v, got %v", mismatch.Expected, mismatch.Actual)
	case err != nil:
		log.Fatal(err)
	}
	if err := kubeconfig.Write("/var/lib/kubelet/bootstrap-kubeconfig", cfg); err != nil {
		log.Fatal(err)
	}
}
