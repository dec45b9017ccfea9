package controller_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
	"github.com/tlsbootstrap/tlsbootstrap/trust"
)

func createNamespaces(t *testing.T, names ...string) {
	t.Helper()
	for _, ns := range names {
		_, err := cp.Client().CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
}

func selfSignedCA(t *testing.T, cn string, start time.Time, validity time.Duration) *sign.CA {
	t.Helper()
	ca, err := sign.NewSelfSignedCA(sign.SelfSignedOptions{CommonName: cn, Validity: validity, Clock: testingclock.NewFakePassiveClock(start)})
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// bundleNames are the common names of a PEM bundle's certificates, or the parse error.
func bundleNames(bundle string) []string {
	certs, err := trust.ParseBundle([]byte(bundle))
	if err != nil {
		return []string{"unparsable: " + err.Error()}
	}
	names := make([]string, len(certs))
	for i, c := range certs {
		names[i] = c.Subject.CommonName
	}
	return names
}

// publishedState is what the API server holds for a signer: the common names in its
// ClusterTrustBundle and in its ConfigMap of each namespace ("missing" when absent).
type publishedState struct {
	bundle     []string
	configMaps map[string][]string
	uids       map[string]types.UID
}

func readPublished(ctx context.Context, signer string, namespaces []string) publishedState {
	s := publishedState{configMaps: map[string][]string{}, uids: map[string]types.UID{}}
	obj, err := cp.Client().CertificatesV1().ClusterTrustBundles().Get(ctx, trust.BundleName(signer, trust.DefaultBundleSuffix), metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		s.bundle = []string{"missing"}
	case err != nil:
		s.bundle = []string{"error: " + err.Error()}
	case obj.Spec.SignerName != signer:
		s.bundle = []string{"linked to " + obj.Spec.SignerName}
	default:
		s.bundle = bundleNames(obj.Spec.TrustBundle)
	}
	for _, ns := range namespaces {
		cm, err := cp.Client().CoreV1().ConfigMaps(ns).Get(ctx, trust.ConfigMapName(signer), metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			s.configMaps[ns] = []string{"missing"}
		case err != nil:
			s.configMaps[ns] = []string{"error: " + err.Error()}
		default:
			s.configMaps[ns] = bundleNames(cm.Data[trust.DefaultConfigMapKey])
			s.uids[ns] = cm.UID
		}
	}
	return s
}

func (s publishedState) holds(want []string) bool {
	if !slices.Equal(s.bundle, want) {
		return false
	}
	for _, got := range s.configMaps {
		if !slices.Equal(got, want) {
			return false
		}
	}
	return true
}

// waitPublished waits until the signer's ClusterTrustBundle and its ConfigMap in each
// namespace hold the CAs named want, in that order, calling tick (when not nil) at each
// look so that a fake clock moves the controller's resync on. It returns the state seen.
func waitPublished(t *testing.T, what, signer string, namespaces []string, tick func(), want ...string) publishedState {
	t.Helper()
	var last publishedState
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		if tick != nil {
			tick()
		}
		last = readPublished(ctx, signer, namespaces)
		return last.holds(want), nil
	})
	if err != nil {
		last = readPublished(context.Background(), signer, namespaces) // not with the poll's expired context
		t.Fatalf("%s: signer %s never published %v: ClusterTrustBundle holds %v, ConfigMaps %v", what, signer, want, last.bundle, last.configMaps)
	}
	return last
}

// TestTrustPublisher runs the trustpublisher controller for the built-in signers (the
// cluster CA) and a custom signer whose CA is a sign.FileCA, publishing to two namespaces,
// and goes through its story step by step: publication, repair of a deleted or edited
// ConfigMap (by the watches: the resync clock stands still), a CA rotation (both CAs
// published), a deleted ClusterTrustBundle and ConfigMap coming back with both CAs, and
// the old CA leaving the bundles once it expires.
func TestTrustPublisher(t *testing.T) {
	testenv.NeedClusterTrustBundles(t, cp.Client())
	ctx := context.Background()
	const signer = "example.com/trustpublisher-test"
	namespaces := []string{"trust-a", "trust-b"}
	createNamespaces(t, append(namespaces, "trust-unlisted")...)

	start := time.Now()
	old := selfSignedCA(t, "old-ca", start, 48*time.Hour)
	cur := selfSignedCA(t, "new-ca", start, 365*24*time.Hour)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	if err := old.WriteFiles(certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	fileCA, err := sign.NewFileCA(ctx, certFile, keyFile, sign.FileCAOptions{CheckInterval: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	clock := clocktesting.NewFakeClock(start)
	tick := func() { clock.Step(controller.TrustResync) }
	opts := controller.Options{
		Controllers:           []string{controller.TrustPublisher},
		TrustBundleNamespaces: namespaces,
		CustomSigners:         []sign.SignerPolicy{{SignerName: signer, CA: fileCA}},
	}
	controller.SetTrustClock(&opts, clock)
	startController(t, opts) // adds the cluster CA as ClusterSigningCA

	// The built-in signers publish the cluster CA.
	for _, builtin := range sign.BuiltinSigners() {
		waitPublished(t, "built-in signer", builtin, namespaces, nil, cp.CA.Cert.Subject.CommonName)
	}
	var before publishedState
	for _, step := range []struct {
		name string
		// do changes something (nil: nothing).
		do   func(t *testing.T)
		tick bool // the change shows at a resync
		want []string
		// recreated is the namespace whose ConfigMap must be a new object.
		recreated string
	}{
		{name: "published", want: []string{"old-ca"}},
		{name: "deleted ConfigMap comes back", do: deleteConfigMap(signer, "trust-a"), want: []string{"old-ca"}, recreated: "trust-a"},
		{name: "ConfigMap edited to a key is repaired", do: editConfigMap(signer, "trust-b", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), want: []string{"old-ca"}},
		{name: "ConfigMap emptied is repaired", do: editConfigMap(signer, "trust-a", ""), want: []string{"old-ca"}},
		{name: "CA rotated: both published", do: func(t *testing.T) {
			if err := cur.WriteFiles(certFile, keyFile); err != nil {
				t.Fatal(err)
			}
		}, tick: true, want: []string{"new-ca", "old-ca"}},
		{name: "deleted ClusterTrustBundle comes back with both CAs", do: func(t *testing.T) {
			if err := cp.Client().CertificatesV1().ClusterTrustBundles().Delete(ctx, trust.BundleName(signer, trust.DefaultBundleSuffix), metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		}, want: []string{"new-ca", "old-ca"}},
		{name: "deleted ConfigMap comes back with both CAs", do: deleteConfigMap(signer, "trust-b"), want: []string{"new-ca", "old-ca"}, recreated: "trust-b"},
		{name: "ConfigMap edited to the new CA alone is repaired", do: editConfigMap(signer, "trust-a", string(cur.CertPEM())), want: []string{"new-ca", "old-ca"}},
		{name: "old CA expired", do: func(*testing.T) { clock.Step(49 * time.Hour) }, tick: true, want: []string{"new-ca"}},
	} {
		t.Run(step.name, func(t *testing.T) {
			if step.do != nil {
				step.do(t)
			}
			var stepTick func()
			if step.tick {
				stepTick = tick
			}
			got := waitPublished(t, step.name, signer, namespaces, stepTick, step.want...)
			if ns := step.recreated; ns != "" && got.uids[ns] == before.uids[ns] {
				t.Errorf("ConfigMap in %s has the UID it had before it was deleted", ns)
			}
			before = got
		})
	}
	if _, err := cp.Client().CoreV1().ConfigMaps("trust-unlisted").Get(ctx, trust.ConfigMapName(signer), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("ConfigMap in a namespace not listed: %v, want not found", err)
	}
}

func deleteConfigMap(signer, ns string) func(t *testing.T) {
	return func(t *testing.T) {
		if err := cp.Client().CoreV1().ConfigMaps(ns).Delete(context.Background(), trust.ConfigMapName(signer), metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

func editConfigMap(signer, ns, data string) func(t *testing.T) {
	return func(t *testing.T) {
		ctx := context.Background()
		cms := cp.Client().CoreV1().ConfigMaps(ns)
		cm, err := cms.Get(ctx, trust.ConfigMapName(signer), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cm.Data[trust.DefaultConfigMapKey] = data
		if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTrustPublisherAllNamespaces: with no namespace list, or "*", the ConfigMaps go to
// every namespace, and to a namespace created while the controller runs (by the Namespace
// watch: the resync clock stands still).
func TestTrustPublisherAllNamespaces(t *testing.T) {
	testenv.NeedClusterTrustBundles(t, cp.Client())
	for i, namespaces := range [][]string{nil, {"*"}} {
		t.Run(fmt.Sprintf("%q", namespaces), func(t *testing.T) {
			signer := fmt.Sprintf("example.com/trustpublisher-all-%d", i)
			ca := selfSignedCA(t, "all-ca", time.Now(), 24*time.Hour)
			opts := controller.Options{
				Controllers:           []string{controller.TrustPublisher},
				TrustBundleNamespaces: namespaces,
				CustomSigners:         []sign.SignerPolicy{{SignerName: signer, CA: ca}},
			}
			controller.SetTrustClock(&opts, clocktesting.NewFakeClock(time.Now()))
			startController(t, opts)
			waitPublished(t, "existing namespaces", signer, []string{metav1.NamespaceDefault, metav1.NamespaceSystem}, nil, "all-ca")
			created := fmt.Sprintf("trust-new-%d", i)
			createNamespaces(t, created)
			waitPublished(t, "namespace created later", signer, []string{created}, nil, "all-ca")
		})
	}
}

// TestTrustPublisherOptionsErrors: bad options are refused before anything runs, naming
// what is wrong.
func TestTrustPublisherOptionsErrors(t *testing.T) {
	ca := selfSignedCA(t, "ca", time.Now(), time.Hour)
	publisher := []string{controller.TrustPublisher}
	for _, tc := range []struct {
		name string
		opts controller.Options
		want string
	}{
		{"no CA", controller.Options{Controllers: publisher}, `controller "trustpublisher" needs a CA`},
		{"star among namespaces", controller.Options{Controllers: publisher, ClusterSigningCA: ca, TrustBundleNamespaces: []string{"a", "*"}},
			`"*" (every namespace) cannot be listed with other namespaces`},
		{"not a namespace name", controller.Options{Controllers: publisher, ClusterSigningCA: ca, TrustBundleNamespaces: []string{"web", "Web_1"}},
			`"Web_1" is not a namespace name`},
		{"empty namespace name", controller.Options{Controllers: publisher, ClusterSigningCA: ca, TrustBundleNamespaces: []string{"web", ""}},
			`"" is not a namespace name`},
		{"CA for a signer not built in", controller.Options{Controllers: publisher, SignerCAs: map[string]sign.CAProvider{"example.com/x": ca}},
			`"example.com/x", which is not a built-in signer`},
		{"custom signer without CA", controller.Options{Controllers: publisher, CustomSigners: []sign.SignerPolicy{{SignerName: "example.com/no-ca"}}},
			"example.com/no-ca"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := controller.Run(ctx, cp.Client(), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run: %v, want an error containing %s", err, tc.want)
			}
		})
	}
}
