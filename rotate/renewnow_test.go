package rotate_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/rotate"
)

// TestRenewNow: a renewal on demand returns the new certificate, without Start; callers
// asking at the same time share one renewal (one CSR, one certificate), and the running
// loop takes the new certificate's deadline.
func TestRenewNow(t *testing.T) {
	testenv.Need(t)
	const nodeName = "renew-now"
	certDir, kubeconfigPath := bootstrapNode(t, nodeName, true)
	store, err := rotate.NewStore(certDir, rotate.ClientPrefix, rotate.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := store.Current()
	if err != nil {
		t.Fatal(err)
	}
	server, err := kubeconfig.RESTConfig(kubeconfigPath)
	if err != nil {
		t.Fatal(err)
	}
	m, err := rotate.NewManager(rotate.ManagerOptions{Store: store, NodeName: nodeName, Server: server})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	const callers = 4
	got := make([]string, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			cert, err := m.RenewNow(ctx)
			if err != nil {
				t.Errorf("RenewNow: %v", err)
				return
			}
			got[i] = cert.SerialNumber.String()
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for _, s := range got[1:] {
		if s != got[0] {
			t.Fatalf("concurrent RenewNow calls got different certificates %v: the renewal was not shared", got)
		}
	}
	if got[0] == first.Leaf.SerialNumber.String() {
		t.Fatal("RenewNow returned the old certificate")
	}
	if st := m.Status(); st.Rotations != 1 {
		t.Errorf("%d rotations for %d concurrent calls, want 1", st.Rotations, callers)
	}
	onDisk, err := store.Current()
	if err != nil || onDisk.Leaf.SerialNumber.String() != got[0] {
		t.Fatalf("the store holds %v (%v), want the renewed certificate", onDisk, err)
	}

	// A running Manager: RenewNow wakes the loop, which moves to the new deadline.
	defer rotate.Background(ctx, m)()
	again, err := m.RenewNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again.SerialNumber.String() == got[0] {
		t.Error("the second RenewNow returned the same certificate")
	}
	err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		st := m.Status()
		return st.Rotations == 2 && st.NextDeadline.After(again.NotBefore), nil
	})
	if err != nil {
		t.Errorf("status after the second RenewNow: %+v", m.Status())
	}
}
