package trust_test

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/tlsbootstrap/tlsbootstrap/trust"
)

// TestRunPicksUpRotation: Run republishes, so a CA swapped while it runs reaches the bundle.
func TestRunPicksUpRotation(t *testing.T) {
	const signer = "example.com/run-loop"
	first := newCA(t, "first", time.Now(), 24*time.Hour)
	second := newCA(t, "second", time.Now(), 48*time.Hour)
	provider := &swappableCA{}
	provider.ca.Store(first)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- trust.Run(ctx, cp.Client(), trust.Options{SignerName: signer, CA: provider}, 50*time.Millisecond, func(err error) { t.Errorf("pass failed: %v", err) })
	}()
	waitForBundle := func(want ...string) {
		t.Helper()
		err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
			obj, err := cp.Client().CertificatesV1().ClusterTrustBundles().Get(ctx, trust.BundleName(signer, trust.DefaultBundleSuffix), metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			certs, err := trust.ParseBundle([]byte(obj.Spec.TrustBundle))
			if err != nil || len(certs) != len(want) {
				return false, nil
			}
			for i, c := range certs {
				if c.Subject.CommonName != want[i] {
					return false, nil
				}
			}
			return true, nil
		})
		if err != nil {
			t.Fatalf("bundle never held %v", want)
		}
	}
	waitForBundle("first")
	provider.ca.Store(second)
	waitForBundle("second", "first")
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if err := trust.Run(context.Background(), cp.Client(), trust.Options{SignerName: signer, CA: provider}, 0, nil); err == nil {
		t.Error("Run accepted a zero interval")
	}
}
