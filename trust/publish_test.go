package trust_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/trust"
)

var cp *controlplane.ControlPlane

func TestMain(m *testing.M) { testenv.Main(m, controlplane.Options{}, &cp) }

// TestClusterTrustBundleServed: v1.37 serves ClusterTrustBundles in certificates.k8s.io/v1
// with no feature gate or runtime-config.
func TestClusterTrustBundleServed(t *testing.T) {
	testenv.NeedClusterTrustBundles(t, cp.Client())
	list, err := cp.Client().Discovery().ServerResourcesForGroupVersion("certificates.k8s.io/v1")
	if err != nil {
		t.Fatal(err)
	}
	var verbs []string
	for _, r := range list.APIResources {
		if r.Name == "clustertrustbundles" {
			verbs = r.Verbs
		}
	}
	if !slices.Contains(verbs, "create") || !slices.Contains(verbs, "update") {
		t.Fatalf("certificates.k8s.io/v1 clustertrustbundles not served with create/update (verbs %v)", verbs)
	}
}

func createNamespaces(t *testing.T, names ...string) {
	t.Helper()
	for _, ns := range names {
		_, err := cp.Client().CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
}

// published reads the bundles of the ConfigMaps and the ClusterTrustBundle.
func published(t *testing.T, signer string, namespaces ...string) (configMaps map[string][]string, ctb []string) {
	t.Helper()
	ctx := context.Background()
	configMaps = map[string][]string{}
	for _, ns := range namespaces {
		cm, err := cp.Client().CoreV1().ConfigMaps(ns).Get(ctx, trust.ConfigMapName(signer), metav1.GetOptions{})
		if err != nil {
			t.Fatalf("ConfigMap in %s: %v", ns, err)
		}
		configMaps[ns] = commonNames(t, []byte(cm.Data[trust.DefaultConfigMapKey]))
	}
	obj, err := cp.Client().CertificatesV1().ClusterTrustBundles().Get(ctx, trust.BundleName(signer, trust.DefaultBundleSuffix), metav1.GetOptions{})
	if err != nil {
		t.Fatalf("ClusterTrustBundle: %v", err)
	}
	if obj.Spec.SignerName != signer {
		t.Errorf("ClusterTrustBundle signer %q, want %q", obj.Spec.SignerName, signer)
	}
	return configMaps, commonNames(t, []byte(obj.Spec.TrustBundle))
}

// TestPublishAndRotate publishes a signer's CA as the admin, republishes (nothing to do),
// rotates the CA (both CAs published) and passes the old CA's expiry (only the new one).
func TestPublishAndRotate(t *testing.T) {
	testenv.NeedClusterTrustBundles(t, cp.Client())
	ctx := context.Background()
	const signer = "example.com/rotating"
	namespaces := []string{"trust-a", "trust-b"}
	createNamespaces(t, namespaces...)
	start := time.Now()
	old := newCA(t, "old", start, 48*time.Hour)
	cur := newCA(t, "new", start.Add(time.Hour), 365*24*time.Hour)
	clock := testingclock.NewFakePassiveClock(start)
	opts := trust.Options{SignerName: signer, CA: old, Namespaces: namespaces, Clock: clock}

	for _, step := range []struct {
		name        string
		now         time.Time
		want        []string
		wantChanged int
	}{
		{name: "first", now: start, want: []string{"old"}, wantChanged: 3},
		{name: "again", now: start.Add(time.Minute), want: []string{"old"}, wantChanged: 0},
		{name: "rotated", now: start.Add(2 * time.Hour), want: []string{"new", "old"}, wantChanged: 3},
		{name: "rotated again", now: start.Add(3 * time.Hour), want: []string{"new", "old"}, wantChanged: 0},
		{name: "old expired", now: start.Add(49 * time.Hour), want: []string{"new"}, wantChanged: 3},
	} {
		if step.name == "rotated" {
			opts.CA = cur
		}
		clock.SetTime(step.now)
		res, err := trust.Publish(ctx, cp.Client(), opts)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if len(res.Changed) != step.wantChanged {
			t.Errorf("%s: changed %v, want %d objects", step.name, res.Changed, step.wantChanged)
		}
		if got := commonNames(t, res.Bundle); !slices.Equal(got, step.want) {
			t.Errorf("%s: result bundle %v, want %v", step.name, got, step.want)
		}
		cms, ctb := published(t, signer, namespaces...)
		for ns, got := range cms {
			if !slices.Equal(got, step.want) {
				t.Errorf("%s: ConfigMap in %s holds %v, want %v", step.name, ns, got, step.want)
			}
		}
		if !slices.Equal(ctb, step.want) {
			t.Errorf("%s: ClusterTrustBundle holds %v, want %v", step.name, ctb, step.want)
		}
	}
}

func TestPublishErrors(t *testing.T) {
	ca := newCA(t, "ca", time.Now(), time.Hour)
	for _, tc := range []struct {
		name string
		opts trust.Options
		want string
	}{
		{"no signer", trust.Options{CA: ca}, "no signer name"},
		{"no CA", trust.Options{SignerName: "example.com/x"}, "no CA"},
		{"missing namespace", trust.Options{SignerName: "example.com/x", CA: ca, Namespaces: []string{"no-such-namespace"}, SkipClusterTrustBundle: true}, "no-such-namespace"},
		{"garbage bundle", trust.Options{SignerName: "example.com/x", CABundle: []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")}, "certificate 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := trust.Publish(context.Background(), cp.Client(), tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Publish: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestLinkedBundleNeedsAttest: a user who may write ClusterTrustBundles still cannot write
// one linked to a signer without the verb attest on that signer; the admin can.
func TestLinkedBundleNeedsAttest(t *testing.T) {
	testenv.NeedClusterTrustBundles(t, cp.Client())
	ctx := context.Background()
	const signer = "example.com/attested"
	admin := cp.Client()
	userCfg, err := cp.UserConfig("trust-publisher")
	if err != nil {
		t.Fatal(err)
	}
	user := kubernetes.NewForConfigOrDie(userCfg)
	ca := newCA(t, "attested-ca", time.Now(), 24*time.Hour)
	opts := trust.Options{SignerName: signer, CA: ca}

	bind := func(name string, rules ...rbacv1.PolicyRule) {
		t.Helper()
		role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
		if _, err := admin.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		binding := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "trust-publisher"}},
		}
		if _, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = admin.RbacV1().ClusterRoleBindings().Delete(ctx, name, metav1.DeleteOptions{})
			_ = admin.RbacV1().ClusterRoles().Delete(ctx, name, metav1.DeleteOptions{})
		})
	}
	bind("trust-publisher-bundles", rbacv1.PolicyRule{APIGroups: []string{"certificates.k8s.io"}, Resources: []string{"clustertrustbundles"},
		Verbs: []string{"get", "create", "update"}})
	// Wait until the binding reaches the authorizer: reading a bundle is no longer forbidden.
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := user.CertificatesV1().ClusterTrustBundles().Get(ctx, "no-such-bundle", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trust.Publish(ctx, user, opts); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "attest") {
		t.Fatalf("publishing a linked bundle without attest: %v, want Forbidden naming attest", err)
	}

	bind("trust-publisher-attest", rbacv1.PolicyRule{APIGroups: []string{"certificates.k8s.io"}, Resources: []string{"signers"},
		ResourceNames: []string{signer}, Verbs: []string{"attest"}})
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := trust.Publish(ctx, user, opts)
		return err == nil, nil
	})
	if err != nil {
		_, err = trust.Publish(ctx, user, opts)
		t.Fatalf("publishing with attest on %s: %v", signer, err)
	}
	if _, ctb := published(t, signer); !slices.Equal(ctb, []string{"attested-ca"}) {
		t.Errorf("ClusterTrustBundle holds %v", ctb)
	}
	// The admin may attest for any signer.
	if _, err := trust.Publish(ctx, admin, trust.Options{SignerName: "example.com/admin-published", CA: ca}); err != nil {
		t.Errorf("admin: %v", err)
	}
}

// TestPublishReplacesUnparsableEdit: a ConfigMap whose bundle someone edited into
// something that is not a bundle of certificates is overwritten with the current bundle,
// instead of failing every later publication; an edit that leaves a bundle is merged.
func TestPublishReplacesUnparsableEdit(t *testing.T) {
	testenv.NeedClusterTrustBundles(t, cp.Client())
	ctx := context.Background()
	const signer, ns = "example.com/edited", "trust-edited"
	createNamespaces(t, ns)
	ca := newCA(t, "edited-ca", time.Now(), 24*time.Hour)
	other := newCA(t, "other-ca", time.Now(), 24*time.Hour)
	opts := trust.Options{SignerName: signer, CA: ca, Namespaces: []string{ns}, SkipClusterTrustBundle: true}
	for _, tc := range []struct {
		name   string
		edited string
		want   []string
	}{
		{"private key block", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", []string{"edited-ca"}},
		{"corrupt certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", []string{"edited-ca"}},
		{"plain text", "trust me", []string{"edited-ca"}},
		{"emptied", "", []string{"edited-ca"}},
		{"another CA only", string(other.CertPEM()), []string{"edited-ca", "other-ca"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := trust.Publish(ctx, cp.Client(), opts); err != nil {
				t.Fatal(err)
			}
			cms := cp.Client().CoreV1().ConfigMaps(ns)
			cm, err := cms.Get(ctx, trust.ConfigMapName(signer), metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			cm.Data[trust.DefaultConfigMapKey] = tc.edited
			if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			res, err := trust.Publish(ctx, cp.Client(), opts)
			if err != nil {
				t.Fatalf("publishing over the edit: %v", err)
			}
			if len(res.Changed) != 1 {
				t.Errorf("changed %v, want the ConfigMap", res.Changed)
			}
			cm, err = cms.Get(ctx, trust.ConfigMapName(signer), metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := commonNames(t, []byte(cm.Data[trust.DefaultConfigMapKey])); !slices.Equal(got, tc.want) {
				t.Errorf("ConfigMap holds %v, want %v", got, tc.want)
			}
		})
	}
}
