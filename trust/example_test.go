package trust_test

import (
	"context"
	"fmt"
	"time"

	testingclock "k8s.io/utils/clock/testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/tlsbootstrap/tlsbootstrap/sign"
	"github.com/tlsbootstrap/tlsbootstrap/trust"
)

// Publish a signer's CA to the namespaces of its workloads and as a ClusterTrustBundle;
// after a rotation both CAs are published until the old one expires.
func ExamplePublish() {
	ctx := context.Background()
	client := fake.NewClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "web"}})
	oldCA, _ := sign.NewSelfSignedCA(sign.SelfSignedOptions{CommonName: "workload-ca-1"})
	opts := trust.Options{SignerName: "example.com/workload-serving", CA: oldCA, Namespaces: []string{"web"}}
	res, err := trust.Publish(ctx, client, opts)
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Changed)

	opts.CA, _ = sign.NewSelfSignedCA(sign.SelfSignedOptions{CommonName: "workload-ca-2"})
	res, err = trust.Publish(ctx, client, opts)
	if err != nil {
		panic(err)
	}
	certs, _ := trust.ParseBundle(res.Bundle)
	for _, c := range certs {
		fmt.Println(c.Subject.CommonName)
	}
	// Output:
	// [configmap/web/example.com-workload-serving-ca.crt clustertrustbundle/example.com:workload-serving:ca]
	// workload-ca-2
	// workload-ca-1
}

// MergeBundles keeps the CAs still valid at now, the current one first.
func ExampleMergeBundles() {
	now := time.Now()
	current, _ := sign.NewSelfSignedCA(sign.SelfSignedOptions{CommonName: "current"})
	expired, _ := sign.NewSelfSignedCA(sign.SelfSignedOptions{CommonName: "expired", Validity: time.Hour, Clock: testingclock.NewFakePassiveClock(now.Add(-2 * time.Hour))})
	bundle, err := trust.MergeBundles(now, current.CertPEM(), expired.CertPEM(), current.CertPEM())
	if err != nil {
		panic(err)
	}
	certs, _ := trust.ParseBundle(bundle)
	fmt.Println(len(certs), certs[0].Subject.CommonName)
	// Output: 1 current
}

// Ask once whether the cluster serves ClusterTrustBundles at certificates.k8s.io/v1 and,
// on an older one, publish the ConfigMaps only.
func ExampleServesClusterTrustBundles() {
	client := fake.NewClientset()
	// A Kubernetes 1.36 cluster with the beta API turned on.
	client.Resources = []*metav1.APIResourceList{{
		GroupVersion: "certificates.k8s.io/v1beta1",
		APIResources: []metav1.APIResource{{Name: "clustertrustbundles"}},
	}}
	served, reason, err := trust.ServesClusterTrustBundles(client.Discovery())
	if err != nil {
		panic(err)
	}
	opts := trust.Options{SignerName: "example.com/workload-serving", SkipClusterTrustBundle: !served}
	fmt.Println(opts.SkipClusterTrustBundle)
	fmt.Println(reason)
	// Output:
	// true
	// the API server serves ClusterTrustBundles only at certificates.k8s.io/v1beta1, not at certificates.k8s.io/v1 (Kubernetes 1.37 and later serve it by default)
}
