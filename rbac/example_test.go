package rbac_test

import (
	"context"
	"fmt"
	"os"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tlsbootstrap/tlsbootstrap/rbac"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// Example prepares a cluster for nodes to join, as kubeadm init does: a bootstrap token in
// the kubeadm group, and the RBAC that lets that group create CSRs and have them
// auto-approved. It needs a cluster, so it is compiled but not run.
func Example() {
	cfg, err := clientcmd.BuildConfigFromFlags("", os.Getenv("KUBECONFIG"))
	if err != nil {
		panic(err)
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()

	tok, err := token.Generate()
	if err != nil {
		panic(err)
	}
	spec := token.DefaultSpec(tok) // 24h, signing+authentication, kubeadm's group
	if _, err := token.Create(ctx, client, spec); err != nil {
		panic(err)
	}
	if err := rbac.Apply(ctx, client, rbac.KubeadmPreset(token.KubeadmDefaultGroup)); err != nil {
		panic(err)
	}
	fmt.Println("created", tok) // printed redacted; tok.Reveal() goes into the node's kubeconfig
}

// ExampleKubeadmPreset lists what the kubeadm preset binds.
func ExampleKubeadmPreset() {
	for _, b := range rbac.KubeadmPreset("").ClusterRoleBindings {
		fmt.Printf("%s: %s -> %s\n", b.Name, b.RoleRef.Name, b.Subjects[0].Name)
	}
	// Output:
	// kubeadm:kubelet-bootstrap: system:node-bootstrapper -> system:bootstrappers:kubeadm:default-node-token
	// kubeadm:node-autoapprove-bootstrap: system:certificates.k8s.io:certificatesigningrequests:nodeclient -> system:bootstrappers:kubeadm:default-node-token
	// kubeadm:node-autoapprove-certificate-rotation: system:certificates.k8s.io:certificatesigningrequests:selfnodeclient -> system:nodes
	// kubeadm:get-nodes: kubeadm:get-nodes -> system:bootstrappers:kubeadm:default-node-token
}

// ExampleNodeRenewalBinding shows the per-node renewal binding of the seed documents.
func ExampleNodeRenewalBinding() {
	b := rbac.NodeRenewalBinding("worker-1")
	fmt.Println(b.Name, b.RoleRef.Name, b.Subjects[0].Kind, b.Subjects[0].Name)
	// Output:
	// node-client-auto-renew-crt:worker-1 approve-node-client-renewal-csr User system:node:worker-1
}

// ExampleServingRenewalPreset is the RBAC that lets every node have its kubelet serving
// CSRs approved by the servingapproving controller (which still checks each SAN).
func ExampleServingRenewalPreset() {
	b := rbac.ServingRenewalPreset().ClusterRoleBindings[0]
	fmt.Println(b.Name, b.RoleRef.Name, b.Subjects[0].Kind, b.Subjects[0].Name)
	// Output:
	// node-server-auto-renew-crt approve-node-server-renewal-csr Group system:nodes
}
