package controller_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/csrtest"
	"github.com/tlsbootstrap/tlsbootstrap/trust"
)

// TestTrustPublisherWithoutClusterTrustBundles: on an API server that does not serve
// ClusterTrustBundles at certificates.k8s.io/v1 (as 1.35 and 1.36 do not; here turned off
// with --runtime-config), the trust publisher publishes the ConfigMaps and says in one
// line why it publishes nothing else; trust.Publish's error names the API and the fix.
func TestTrustPublisherWithoutClusterTrustBundles(t *testing.T) {
	old, err := controlplane.Start(controlplane.Options{ExtraArgs: map[string][]string{
		"runtime-config": {"certificates.k8s.io/v1/clustertrustbundles=false"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = old.Stop() }()
	client := old.Client()

	served, reason, err := trust.ServesClusterTrustBundles(client.Discovery())
	if err != nil || served || !strings.Contains(reason, "not at certificates.k8s.io/v1") {
		t.Fatalf("ServesClusterTrustBundles = %t, %q, %v; want not served, with the API named", served, reason, err)
	}
	_, err = trust.Publish(context.Background(), client, trust.Options{SignerName: "example.com/old", CABundle: old.CA.CertPEM})
	if err == nil || !strings.Contains(err.Error(), "certificates.k8s.io/v1") || !strings.Contains(err.Error(), "SkipClusterTrustBundle") {
		t.Errorf("trust.Publish on the old API server: %v; want an error naming the API and the fix", err)
	}

	var mu sync.Mutex
	var logs bytes.Buffer
	logger := funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		logs.WriteString(prefix + " " + args + "\n")
	}, funcr.Options{})
	ctx, cancel := context.WithCancel(klog.NewContext(context.Background(), logger))
	done := make(chan error, 1)
	go func() {
		done <- controller.Run(ctx, client, controller.Options{
			Controllers:           []string{controller.TrustPublisher},
			ClusterSigningCA:      old.CA.Signing(),
			TrustBundleNamespaces: []string{"default"},
			Registry:              prometheus.NewRegistry(),
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("controller.Run: %v", err)
		}
	}()
	csrtest.WaitFor(t, "the kubelet client signer's ConfigMap in default", func() bool {
		cm, err := client.CoreV1().ConfigMaps("default").Get(ctx, trust.ConfigMapName("kubernetes.io/kube-apiserver-client-kubelet"), metav1.GetOptions{})
		return err == nil && strings.Contains(cm.Data["ca.crt"], "BEGIN CERTIFICATE")
	})
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	got := logs.String()
	mu.Unlock()
	if n := strings.Count(got, "Publishing CA bundles as ConfigMaps only"); n != 1 {
		t.Errorf("the reason was logged %d times, want once:\n%s", n, got)
	}
}
