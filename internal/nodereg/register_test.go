package nodereg_test

import (
	"context"
	"net"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/nodereg"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
)

var cp *controlplane.ControlPlane

func TestMain(m *testing.M) { testenv.MainLazy(m, controlplane.Options{}, &cp) }

func nodeClient(t *testing.T, name string) kubernetes.Interface {
	t.Helper()
	testenv.Need(t)
	cfg, err := cp.UserConfig("system:node:"+name, "system:nodes")
	if err != nil {
		t.Fatal(err)
	}
	return kubernetes.NewForConfigOrDie(cfg)
}

func TestRegister(t *testing.T) {
	ctx := context.Background()
	client := nodeClient(t, "reg-a")
	addrs := nodereg.Addresses([]net.IP{net.ParseIP("10.0.0.7")}, "reg-a")
	got, err := nodereg.Register(ctx, client, nodereg.Options{NodeName: "reg-a", Addresses: addrs})
	if err != nil {
		t.Fatal(err)
	}
	want := []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.0.0.7"}, {Type: corev1.NodeHostName, Address: "reg-a"}}
	if len(got.Status.Addresses) != 2 || got.Status.Addresses[0] != want[0] || got.Status.Addresses[1] != want[1] {
		t.Errorf("addresses %v, want %v", got.Status.Addresses, want)
	}
	if got.Labels["kubernetes.io/hostname"] != "reg-a" {
		t.Errorf("labels %v lack %s=reg-a", got.Labels, "kubernetes.io/hostname")
	}

	// Registering again with a new address updates it.
	moved := nodereg.Addresses([]net.IP{net.ParseIP("10.0.0.8")}, "reg-a")
	got, err = nodereg.Register(ctx, client, nodereg.Options{NodeName: "reg-a", Addresses: moved})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status.Addresses[0].Address != "10.0.0.8" {
		t.Errorf("addresses %v after re-registering, want 10.0.0.8", got.Status.Addresses)
	}

	// Another node's object: creating it and updating it are both refused.
	if _, err := nodereg.Register(ctx, client, nodereg.Options{NodeName: "reg-b", Addresses: addrs}); err == nil || !strings.Contains(err.Error(), "only its own") {
		t.Errorf("registering another node: %v, want a refusal naming the rule", err)
	}
	if _, err := cp.Client().CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "reg-c"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := nodereg.Register(ctx, client, nodereg.Options{NodeName: "reg-c", Addresses: addrs}); err == nil || !strings.Contains(err.Error(), "only its own") {
		t.Errorf("updating another node's addresses: %v, want a refusal", err)
	}
	other, err := cp.Client().CoreV1().Nodes().Get(ctx, "reg-c", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(other.Status.Addresses) != 0 {
		t.Errorf("another node's addresses were changed: %v", other.Status.Addresses)
	}
	if _, err := nodereg.Register(ctx, client, nodereg.Options{}); err == nil {
		t.Error("empty node name accepted")
	}
}
