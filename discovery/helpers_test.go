package discovery_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tlsbootstrap/tlsbootstrap/discovery"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// newToken creates a bootstrap token Secret with usages, expiring at expires (zero: never).
func newToken(t *testing.T, expires time.Time, usages ...string) token.Token {
	t.Helper()
	tok, err := token.Generate()
	if err != nil {
		t.Fatal(err)
	}
	spec := token.Spec{Token: tok, Expires: expires, Usages: usages}
	if _, err := token.Create(context.Background(), cp.Client(), spec); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = token.Delete(context.Background(), cp.Client(), tok.ID) })
	return tok
}

// clusterInfo reads cluster-info as the admin.
func clusterInfo(t *testing.T) *corev1.ConfigMap {
	t.Helper()
	cm, err := cp.Client().CoreV1().ConfigMaps(discovery.Namespace).Get(context.Background(), discovery.ConfigMapName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cm
}

// eventually polls cond every 100ms until it returns "" (done) or timeout passes, then
// fails with cond's last message.
func eventually(t *testing.T, timeout time.Duration, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msg := cond()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", timeout, msg)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// publish publishes cluster-info for the test control plane.
func publish(t *testing.T) {
	t.Helper()
	if err := discovery.PublishClusterInfo(context.Background(), cp.Client(), cp.Host(), cp.ServingCAPEM()); err != nil {
		t.Fatal(err)
	}
}
