package controlplane_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
)

// TestRestartKeepsClientsAndData stops and restarts each component of a control plane of
// its own (the package's shared one must stay up for the other tests) and checks that what
// was stored before is still there and that every credential handed out before (admin
// certificate, admin kubeconfig file, bootstrap token) works again against the same
// address and serving certificate.
func TestRestartKeepsClientsAndData(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane of its own")
	}
	plane, err := controlplane.Start(controlplane.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := plane.Stop(); err != nil {
			t.Errorf("stopping the control plane: %v", err)
		}
	})
	host := plane.Host()
	tok := testenv.WriteToken(t, plane, time.Now().Add(time.Hour))
	fileConfig, err := clientcmd.BuildConfigFromFlags("", plane.KubeconfigFile)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		// outage stops a component; down is a request that must fail meanwhile; restart
		// brings the component back.
		outage, restart func() error
		down            func(ctx context.Context) error
	}{
		{
			name:    "api server",
			outage:  plane.StopAPIServer,
			restart: plane.StartAPIServer,
			down: func(ctx context.Context) error {
				_, err := plane.Client().CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{})
				return err
			},
		},
		{
			name:    "etcd",
			outage:  plane.StopEtcd,
			restart: plane.StartEtcd,
			down: func(ctx context.Context) error {
				// The API server is up, but its etcd check fails while etcd is down.
				_, err := plane.Client().Discovery().RESTClient().Get().AbsPath("/readyz/etcd").Do(ctx).Raw()
				return err
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			name := fmt.Sprintf("before-%d", time.Now().UnixNano())
			if _, err := plane.Client().CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: name},
				Data:       map[string]string{"written": "before the outage"},
			}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if err := tc.outage(); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s stopped in %s", tc.name, time.Since(start).Round(time.Millisecond))
			downCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := tc.down(downCtx)
			cancel()
			if err == nil {
				t.Errorf("a request succeeded while the %s was stopped", tc.name)
			}
			start = time.Now()
			if err := tc.restart(); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s started again in %s", tc.name, time.Since(start).Round(time.Millisecond))
			if got := plane.Host(); got != host {
				t.Errorf("address changed across the restart: %s, was %s", got, host)
			}

			// etcd's clients in the API server reconnect with a short delay.
			var cm *corev1.ConfigMap
			if err := retryFor(10*time.Second, func() error {
				var err error
				cm, err = plane.Client().CoreV1().ConfigMaps("default").Get(ctx, name, metav1.GetOptions{})
				return err
			}); err != nil {
				t.Fatalf("data written before the restart: %v", err)
			}
			t.Logf("data read back %s after the restart", time.Since(start).Round(time.Millisecond))
			if cm.Data["written"] != "before the outage" {
				t.Errorf("config map %s holds %v after the restart", name, cm.Data)
			}
			for _, c := range []struct {
				cred, wantUser string
				cfg            *rest.Config
			}{
				{"admin certificate", "admin", plane.Config},
				{"admin kubeconfig file", "admin", fileConfig},
				{"bootstrap token", "system:bootstrap:" + tok.ID, plane.TokenConfig(tok.Reveal())},
			} {
				user, err := whoAmI(t, c.cfg)
				if err != nil {
					t.Errorf("%s no longer authenticates after the restart: %v", c.cred, err)
					continue
				}
				if user.Username != c.wantUser {
					t.Errorf("%s authenticates as %q after the restart, want %q", c.cred, user.Username, c.wantUser)
				}
			}
			// The admin can write again, not only read.
			if _, err := clientFor(t, fileConfig).CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{GenerateName: "after-"},
			}, metav1.CreateOptions{}); err != nil {
				t.Errorf("cannot write after the restart: %v", err)
			}
		})
	}
}

func clientFor(t *testing.T, cfg *rest.Config) kubernetes.Interface {
	t.Helper()
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// retryFor calls f every 200ms until it succeeds or d has passed, returning its last error.
func retryFor(d time.Duration, f func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// The API server goes away and comes back on the same address with the same serving
// certificate, so clients built before the outage reconnect without any change.
func ExampleControlPlane_StopAPIServer() {
	plane, err := controlplane.Start(controlplane.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer plane.Stop()
	client := plane.Client()
	if err := plane.StopAPIServer(); err != nil {
		fmt.Println(err)
		return
	}
	time.Sleep(20 * time.Second) // what the outage lasts
	if err := plane.StartAPIServer(); err != nil {
		fmt.Println(err)
		return
	}
	_, err = client.CoreV1().Namespaces().Get(context.Background(), "default", metav1.GetOptions{})
	fmt.Println("admin client after the restart:", err)
}
