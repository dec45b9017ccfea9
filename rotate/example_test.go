package rotate_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"

	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/rotate"
)

// A kubelet-like agent keeps its client certificate renewed (falling back to the
// bootstrap credentials once it has expired) and serves HTTPS with a renewed serving
// certificate.
func ExampleNewManager() {
	server, err := kubeconfig.RESTConfig("/var/lib/kubelet/kubeconfig")
	if err != nil {
		fmt.Println(err)
		return
	}
	bootstrap, _ := kubeconfig.RESTConfig("/var/lib/kubelet/bootstrap-kubeconfig")
	clientStore, _ := rotate.NewStore("/var/lib/kubelet/pki", rotate.ClientPrefix, rotate.StoreOptions{})
	client, err := rotate.NewManager(rotate.ManagerOptions{Store: clientStore, NodeName: "node-1", Server: server, Bootstrap: bootstrap})
	if err != nil {
		fmt.Println(err)
		return
	}
	servingStore, _ := rotate.NewStore("/var/lib/kubelet/pki", rotate.ServingPrefix, rotate.StoreOptions{})
	serving, err := rotate.NewManager(rotate.ManagerOptions{
		Store: servingStore, Kind: rotate.KindServing, NodeName: "node-1",
		Addresses: func() ([]string, []net.IP) { return []string{"node-1"}, []net.IP{net.ParseIP("10.0.0.1")} },
		Client:    rotate.NodeClient(rotate.NodeClientOptions{Server: server, Certificate: client.Current}),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background() // cancel it to stop renewing
	go client.Run(ctx)
	go serving.Run(ctx)

	srv := &http.Server{Addr: ":10250", TLSConfig: &tls.Config{GetCertificate: serving.GetCertificate}}
	_ = srv.ListenAndServeTLS("", "")
}

// ExampleManager_RenewNow renews a node's client certificate at once (an operator's
// "rotate now", a CA change), without starting the background renewal; callers asking at
// the same time share one renewal.
func ExampleManager_RenewNow() {
	server, err := kubeconfig.RESTConfig("/var/lib/kubelet/kubeconfig")
	if err != nil {
		fmt.Println(err)
		return
	}
	store, err := rotate.NewStore("/var/lib/kubelet/pki", rotate.ClientPrefix, rotate.StoreOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := rotate.NewManager(rotate.ManagerOptions{Store: store, NodeName: "node-1", Server: server})
	if err != nil {
		fmt.Println(err)
		return
	}
	cert, err := m.RenewNow(context.Background())
	if err != nil {
		fmt.Println(err) // a *csr.DeniedError, a store error, ... (errors.As)
		return
	}
	fmt.Println("renewed:", cert.SerialNumber, "until", cert.NotAfter)
}
