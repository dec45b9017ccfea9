package rotate

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	testclock "k8s.io/utils/clock/testing"
)

func TestNewManagerRejectsBadConfig(t *testing.T) {
	store, err := NewStore(t.TempDir(), ClientPrefix, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	server := &rest.Config{Host: "https://127.0.0.1:1"}
	client := func() (kubernetes.Interface, Path, error) { return nil, "", errors.New("unused") }
	addrs := func() ([]string, []net.IP) { return nil, nil }
	for _, tc := range []struct {
		name string
		cfg  ManagerOptions
		want string
	}{
		{"no store", ManagerOptions{NodeName: "n", Server: server}, "Store is required"},
		{"no node", ManagerOptions{Store: store, Server: server}, "NodeName is required"},
		{"unknown kind", ManagerOptions{Store: store, NodeName: "n", Server: server, Kind: "peer"}, `unknown kind "peer"`},
		{"no client or server", ManagerOptions{Store: store, NodeName: "n"}, "set Client, or Server"},
		{"serving without addresses", ManagerOptions{Store: store, NodeName: "n", Kind: KindServing, Client: client}, "needs Addresses"},
		{"serving without client", ManagerOptions{Store: store, NodeName: "n", Kind: KindServing, Server: server, Addresses: addrs}, "needs Client"},
	} {
		_, err := NewManager(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// TestManagerRetriesWithBackoff drives the loop on a fake clock with a client that
// always fails: attempts come 2s, 4s, 8s, 16s, 32s, then every 32s apart, each failure
// is in Status, and Stop ends the loop.
func TestManagerRetriesWithBackoff(t *testing.T) {
	store, err := NewStore(t.TempDir(), ClientPrefix, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	clk := testclock.NewFakeClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	var mu sync.Mutex
	var attempts []time.Time
	m, err := NewManager(ManagerOptions{
		Store: store, NodeName: "n", Clock: clk, Rand: func() float64 { return 0 },
		Client: func() (kubernetes.Interface, Path, error) {
			mu.Lock()
			defer mu.Unlock()
			attempts = append(attempts, clk.Now())
			return nil, PathBootstrap, errors.New("server unreachable")
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.GetCertificate(nil); err == nil {
		t.Error("GetCertificate with no certificate: no error")
	}
	stop := Background(context.Background(), m)
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(attempts) }
	want := []time.Duration{2, 4, 8, 16, 32, 32, 32}
	for i, d := range want {
		waitFor(t, func() bool { return count() == i+1 && clk.HasWaiters() })
		if i == 0 {
			ended, end := context.WithCancel(context.Background())
			end()
			if err := m.Run(ended); err == nil {
				t.Error("a second Run while the first runs: no error")
			}
		}
		st := m.Status()
		if st.LastError == nil || !strings.Contains(st.LastError.Error(), "server unreachable") || st.Path != PathBootstrap {
			t.Fatalf("after attempt %d: status %+v, want the failure on the bootstrap path", i+1, st)
		}
		clk.Step(d*time.Second - time.Millisecond)
		time.Sleep(20 * time.Millisecond)
		if count() != i+1 {
			t.Fatalf("attempt %d came before its %ds backoff", i+2, d)
		}
		clk.Step(time.Millisecond)
	}
	waitFor(t, func() bool { return count() == len(want)+1 })
	stop()
	stop() // idempotent
	mu.Lock()
	defer mu.Unlock()
	for i := 1; i < len(attempts); i++ {
		if gap := attempts[i].Sub(attempts[i-1]); gap != want[i-1]*time.Second {
			t.Errorf("gap before attempt %d = %v, want %v", i+1, gap, want[i-1]*time.Second)
		}
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}
