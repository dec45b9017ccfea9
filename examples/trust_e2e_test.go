package examples_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// csr-controller --controllers=trustpublisher publishes the CA of each signer it signs for:
// the kubelet-serving signer's ClusterTrustBundle and its ConfigMap in the namespace asked
// for, each holding the cluster CA the controller was given.
func TestCSRControllerPublishesTrustBundles(t *testing.T) {
	testenv.NeedClusterTrustBundles(t, cp.Client())
	startCSRController(t, "--controllers=trustpublisher", "--trust-bundle-namespaces=default")
	caPEM := strings.TrimSpace(string(cp.CA.CertPEM))
	const bundleName, configMapName = "kubernetes.io:kubelet-serving:ca", "kubernetes.io-kubelet-serving-ca.crt"
	var bundle, configMap string
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		ctb, err := cp.Client().CertificatesV1().ClusterTrustBundles().Get(ctx, bundleName, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		cm, err := cp.Client().CoreV1().ConfigMaps("default").Get(ctx, configMapName, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		bundle, configMap = ctb.Spec.TrustBundle, cm.Data["ca.crt"]
		return true, nil
	})
	if err != nil {
		t.Fatalf("no ClusterTrustBundle %s and ConfigMap default/%s within a minute", bundleName, configMapName)
	}
	for what, got := range map[string]string{"ClusterTrustBundle": bundle, "ConfigMap": configMap} {
		if !strings.Contains(got, caPEM) {
			t.Errorf("the %s does not hold the controller's CA:\n%s", what, got)
		}
	}
	ctb, err := cp.Client().CertificatesV1().ClusterTrustBundles().Get(context.Background(), bundleName, metav1.GetOptions{})
	if err != nil || ctb.Spec.SignerName != certificatesv1.KubeletServingSignerName {
		t.Errorf("ClusterTrustBundle %s: signer %q, %v; want %s", bundleName, ctb.Spec.SignerName, err, certificatesv1.KubeletServingSignerName)
	}
}
