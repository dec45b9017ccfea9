package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/ktesting"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/deploy"
	"github.com/tlsbootstrap/tlsbootstrap/internal/controllerflags"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
	"github.com/tlsbootstrap/tlsbootstrap/trust"
)

// trustComponent is the component that turns trustpublisher on.
const trustComponent = "components/trustpublisher"

// trustSigners are the signers the base Deployment has a CA for: the component publishes
// their bundles.
var trustSigners = []string{client, serving}

// trustRights is what trustpublisher adds, for the base Deployment's signers.
func trustRights() []access {
	rights := []access{
		{"get", certs, "clustertrustbundles", "", "example.com:anything:ca", ""},
		{"list", certs, "clustertrustbundles", "", "", ""},
		{"watch", certs, "clustertrustbundles", "", "", ""},
		{"create", certs, "clustertrustbundles", "", "", ""},
		{"create", "", "configmaps", "", "", "web"},
		{"list", "", "namespaces", "", "", ""},
		{"watch", "", "namespaces", "", "", ""},
	}
	for _, s := range trustSigners {
		cm := trust.ConfigMapName(s)
		rights = append(rights,
			access{"attest", certs, "signers", "", s, ""},
			access{"update", certs, "clustertrustbundles", "", trust.BundleName(s, trust.DefaultBundleSuffix), ""},
			// The informers list and watch the ConfigMaps of one name in every namespace.
			access{"list", "", "configmaps", "", cm, ""},
			access{"watch", "", "configmaps", "", cm, ""},
			access{"get", "", "configmaps", "", cm, "web"},
			access{"update", "", "configmaps", "", cm, "web"},
			access{"get", "", "configmaps", "", cm, kubeSys},
			access{"update", "", "configmaps", "", cm, kubeSys},
		)
	}
	return rights
}

// trustNever is what trustpublisher must not add.
var trustNever = []access{
	{"attest", certs, "signers", "", "kubernetes.io/kube-apiserver-client", ""},
	{"attest", certs, "signers", "", "kubernetes.io/legacy-unknown", ""},
	{"attest", certs, "signers", "", "example.com/anything", ""},
	{"attest", certs, "signers", "", "kubernetes.io/*", ""},
	{"update", certs, "clustertrustbundles", "", "example.com:anything:ca", ""},
	{"update", certs, "clustertrustbundles", "", "kubernetes.io:kubelet-serving:other", ""},
	{"patch", certs, "clustertrustbundles", "", trust.BundleName(serving, trust.DefaultBundleSuffix), ""},
	{"delete", certs, "clustertrustbundles", "", trust.BundleName(serving, trust.DefaultBundleSuffix), ""},
	{"list", "", "configmaps", "", "", ""},
	{"watch", "", "configmaps", "", "", ""},
	{"list", "", "configmaps", "", "", "web"},
	{"list", "", "configmaps", "", "kube-root-ca.crt", ""},
	{"get", "", "configmaps", "", "kube-root-ca.crt", "web"},
	{"get", "", "configmaps", "", "cluster-info", "kube-public"},
	{"update", "", "configmaps", "", "kube-root-ca.crt", "web"},
	{"patch", "", "configmaps", "", trust.ConfigMapName(serving), "web"},
	{"delete", "", "configmaps", "", trust.ConfigMapName(serving), "web"},
	{"create", "", "namespaces", "", "", ""},
	{"update", "", "namespaces", "", "web", ""},
	{"delete", "", "namespaces", "", "web", ""},
}

// loadWith renders dir with components added, as a kustomization naming them would.
func loadWith(dir string, components ...string) ([]*unstructured.Unstructured, error) {
	objs, err := load(dir)
	if err != nil {
		return nil, err
	}
	for _, c := range components {
		extra, err := load(c) // the component's resources
		if err != nil {
			return nil, err
		}
		objs = append(objs, extra...)
		k, err := readKustomization(c)
		if err != nil {
			return nil, err
		}
		for _, p := range k.Patches {
			if err := applyPatch(objs, p.Target.Kind, p.Target.Name, p.Patch); err != nil {
				return nil, fmt.Errorf("%s: %w", c, err)
			}
		}
	}
	return objs, nil
}

// TestTrustPublisherComponent applies the base with components/trustpublisher, checks with
// SubjectAccessReviews that the ServiceAccount may do exactly what the base's controllers
// and trustpublisher do, then runs the controllers the Deployment names with only those
// rights (impersonation): the CA bundles of the Deployment's signers reach their
// ClusterTrustBundles and a ConfigMap in every namespace, one created later included, and a
// deleted ConfigMap comes back.
func TestTrustPublisherComponent(t *testing.T) {
	testenv.NeedClusterTrustBundles(t, cp.Client())
	ctx := context.Background()
	base, err := load("base")
	if err != nil {
		t.Fatal(err)
	}
	example, err := load("example")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := loadWith("base", trustComponent)
	if err != nil {
		t.Fatal(err)
	}
	// Start from the base alone, whatever other tests applied; leave it so.
	remove(t, componentsOnly(base, example))
	apply(t, objs)
	t.Cleanup(func() { remove(t, componentsOnly(base, objs)) })
	// trustRights override the entries of neverRights the component is for (attest on
	// the kubelet client signer, creating ClusterTrustBundles).
	checkMatrix(t, "base + trustpublisher", matrix(
		[][]access{baseRights, trustRights()},
		[][]access{servingRights, tokenCleanerRights, neverRights, trustNever}))

	spec := controllerContainer(t, find(t, objs, "Deployment", "csr-controller"))
	var controllers []string
	for _, v := range flagValues(spec.args, "controllers") {
		controllers = append(controllers, strings.Split(v, ",")...)
	}
	if !slices.Contains(controllers, controller.TrustPublisher) {
		t.Fatalf("--controllers of base + %s = %v, without %s", trustComponent, controllers, controller.TrustPublisher)
	}
	// The signers with a CA are those whose names the component's rules hold.
	signerCAs := map[string]sign.CAProvider{}
	var signers []string
	for infix, signer := range controllerflags.SignerFlagNames() {
		if len(flagValues(spec.args, "cluster-signing-"+infix+"-cert-file")) > 0 {
			signerCAs[signer] = cp.CA.Signing()
			signers = append(signers, signer)
		}
	}
	slices.Sort(signers)
	if want := slices.Sorted(slices.Values(trustSigners)); !slices.Equal(signers, want) {
		t.Fatalf("the Deployment signs for %v; the component's rules are for %v", signers, want)
	}
	namespaces := flagValues(spec.args, "trust-bundle-namespaces")
	if len(namespaces) > 0 {
		t.Fatalf("the component passes --trust-bundle-namespaces=%v; its rights are for every namespace", namespaces)
	}

	saClient, err := kubernetes.NewForConfig(cp.ImpersonatingConfig(deploy.ServiceAccountUser, deploy.ServiceAccountGroups...))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- controller.Run(klog.NewContext(runCtx, ktesting.NewLogger(t, ktesting.NewConfig(ktesting.Verbosity(2)))), saClient, controller.Options{
			Controllers: controllers, SignerCAs: signerCAs, TrustBundleNamespaces: namespaces,
		})
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("controller.Run: %v", err)
		}
	})

	created := "trust-deployed"
	if _, err := cp.Client().CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: created}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	caPEM := string(cp.CA.Signing().CertPEM())
	waitTrust := func(what string) {
		t.Helper()
		var missing []string
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			missing = missing[:0]
			for _, s := range trustSigners {
				name := trust.BundleName(s, trust.DefaultBundleSuffix)
				obj, err := cp.Client().CertificatesV1().ClusterTrustBundles().Get(ctx, name, metav1.GetOptions{})
				if err != nil || obj.Spec.TrustBundle != caPEM {
					missing = append(missing, "ClusterTrustBundle "+name)
				}
				for _, ns := range []string{metav1.NamespaceDefault, metav1.NamespaceSystem, created} {
					cm, err := cp.Client().CoreV1().ConfigMaps(ns).Get(ctx, trust.ConfigMapName(s), metav1.GetOptions{})
					if err != nil || cm.Data[trust.DefaultConfigMapKey] != caPEM {
						missing = append(missing, "ConfigMap "+ns+"/"+trust.ConfigMapName(s))
					}
				}
			}
			return len(missing) == 0, nil
		})
		if err != nil {
			t.Fatalf("%s: not holding the cluster CA after 30s (see the controller's log for what it was refused): %v", what, missing)
		}
	}
	waitTrust("published under the ServiceAccount")

	cm := trust.ConfigMapName(serving)
	if err := cp.Client().CoreV1().ConfigMaps(created).Delete(ctx, cm, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitTrust("after " + created + "/" + cm + " was deleted")
}

// TestTrustPublisherKustomizeBuild renders the base with components/trustpublisher with
// kubectl's kustomize, when kubectl is installed: the component is a valid Component, its
// flag is appended to the base's, and it renders what the test loader does.
func TestTrustPublisherKustomizeBuild(t *testing.T) {
	kubectl, err := lookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not installed; the component is still checked by the loader in TestTrustPublisherComponent")
	}
	out := kustomizeBuildWith(t, kubectl, "with-trust", map[string][]byte{"with-trust/kustomization.yaml": []byte(
		"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../base\ncomponents:\n- ../" + trustComponent + "\n")})
	var args []string
	for _, o := range out {
		if o.GetKind() == "Deployment" {
			args = controllerContainer(t, o).args
		}
	}
	if got := fmt.Sprint(flagValues(args, "controllers")); got != "[csrapproving,csrsigning,csrcleaner,nodecertificates trustpublisher]" {
		t.Errorf("--controllers values %s", got)
	}
	loaded, err := loadWith("base", trustComponent)
	if err != nil {
		t.Fatal(err)
	}
	describeAll := func(objs []*unstructured.Unstructured) []string {
		var d []string
		for _, o := range objs {
			d = append(d, describe(o))
		}
		slices.Sort(d)
		return d
	}
	if got, want := describeAll(out), describeAll(loaded); !slices.Equal(got, want) {
		t.Errorf("kustomize rendered %v, the loader %v", got, want)
	}
}
