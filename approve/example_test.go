package approve_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"net"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
)

// exampleRenewal is a kubelet client renewal CSR of node "worker-1", as the API server
// stores it (spec.username set to the requester).
func exampleRenewal() *certificatesv1.CertificateSigningRequest {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "system:node:worker-1", Organization: []string{"system:nodes"}},
	}, key)
	return &certificatesv1.CertificateSigningRequest{Spec: certificatesv1.CertificateSigningRequestSpec{
		Request:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}),
		SignerName: certificatesv1.KubeAPIServerClientKubeletSignerName,
		Usages:     []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth},
		Username:   "system:node:worker-1",
	}}
}

func ExampleClassify() {
	c, err := approve.Classify(exampleRenewal())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("recognized as:", c.Kinds)
	for _, why := range c.NotRecognized {
		fmt.Printf("not %s (rule %s): %s\n", why.Kind, why.Rule, why.Detail)
	}
	// Output:
	// recognized as: [selfnodeclient nodeclient]
	// not selfnodeserver (rule SignerName): signer is "kubernetes.io/kube-apiserver-client-kubelet", want "kubernetes.io/kubelet-serving"
}

// selfRenewalsOnly is an approve.Authorizer of one's own instead of SubjectAccessReview:
// nodes may renew themselves, nothing else.
type selfRenewalsOnly struct{}

func (selfRenewalsOnly) Authorize(_ context.Context, _ *certificatesv1.CertificateSigningRequest, kind approve.Kind) (bool, string, error) {
	return kind == approve.KindSelfNodeClient, "only self renewals", nil
}

// exampleAllowAll authorizes every kind; in a cluster, use NewSARAuthorizer.
type exampleAllowAll struct{}

func (exampleAllowAll) Authorize(context.Context, *certificatesv1.CertificateSigningRequest, approve.Kind) (bool, string, error) {
	return true, "", nil
}

func ExampleApprover_Decide() {
	approver, err := approve.NewApprover(approve.Options{Authorizer: selfRenewalsOnly{}})
	if err != nil {
		fmt.Println(err)
		return
	}
	d, err := approver.Decide(context.Background(), exampleRenewal())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Action, d.Kind, d.Reason)
	fmt.Println(d.Message)
	// Output:
	// Approve selfnodeclient AutoApproved
	// Auto approving self kubelet client certificate after SubjectAccessReview.
}

// ExampleApprove is `kubectl certificate approve` as a function.
func ExampleApprove() {
	approveOne := func(ctx context.Context, client kubernetes.Interface, name string) error {
		return approve.Approve(ctx, client, name, "OpsApproved", "Approved after checking the node's inventory entry.")
	}
	_ = approveOne
}

// ExampleServingPolicy decides a kubelet serving CSR offline, from fixed facts: a node
// that lists another Node's address in its own status gets no certificate for it.
func ExampleServingPolicy() {
	addr := func(t corev1.NodeAddressType, a string) corev1.NodeAddress {
		return corev1.NodeAddress{Type: t, Address: a}
	}
	facts := &approve.StaticFacts{Nodes: []*corev1.Node{
		{ObjectMeta: metav1.ObjectMeta{Name: "node-a"}, Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{
			addr(corev1.NodeHostName, "node-a"), addr(corev1.NodeInternalIP, "192.0.2.10"),
			addr(corev1.NodeInternalIP, "192.0.2.11"), // node-b's, listed by node-a
		}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "node-b"}, Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{
			addr(corev1.NodeHostName, "node-b"), addr(corev1.NodeInternalIP, "192.0.2.11"),
		}}},
	}}
	approver, err := approve.NewApprover(approve.Options{
		Authorizer: exampleAllowAll{},
		Serving:    &approve.ServingOptions{Policy: approve.ServingPolicy{}, Facts: facts},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ip := range []string{"192.0.2.10", "192.0.2.11"} {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
			Subject:     pkix.Name{CommonName: "system:node:node-a", Organization: []string{"system:nodes"}},
			DNSNames:    []string{"node-a"},
			IPAddresses: []net.IP{net.ParseIP(ip)},
		}, key)
		obj := &certificatesv1.CertificateSigningRequest{Spec: certificatesv1.CertificateSigningRequestSpec{
			Request:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}),
			SignerName: certificatesv1.KubeletServingSignerName,
			Usages:     []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth},
			Username:   "system:node:node-a", Groups: []string{"system:nodes", "system:authenticated"},
		}}
		d, err := approver.Decide(context.Background(), obj)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(d.Action, d.Message)
	}
	// Output:
	// Approve Auto approving self kubelet serving certificate after SubjectAccessReview and a check of its subjectAltNames against the Node's addresses.
	// Deny Denying kubelet serving certificate of node "node-a" (rule UniqueAddress): IP 192.0.2.11 is also an address of node "node-b"; node "node-a" may not have a certificate for it.
}
