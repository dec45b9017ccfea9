package deploy_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/klog/v2"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2/ktesting"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/deploy"
	"github.com/tlsbootstrap/tlsbootstrap/internal/controllerflags"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/node"
	"github.com/tlsbootstrap/tlsbootstrap/rbac"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// containerSpec is what the test reads from the Deployment's only container.
type containerSpec struct {
	args                        []string
	livenessPath, readinessPath string
}

func controllerContainer(t *testing.T, d *unstructured.Unstructured) containerSpec {
	t.Helper()
	containers, _, err := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	if err != nil || len(containers) != 1 {
		t.Fatalf("Deployment containers: %v (%d)", err, len(containers))
	}
	c := containers[0].(map[string]any)
	args, _, _ := unstructured.NestedStringSlice(c, "args")
	live, _, _ := unstructured.NestedString(c, "livenessProbe", "httpGet", "path")
	ready, _, _ := unstructured.NestedString(c, "readinessProbe", "httpGet", "path")
	return containerSpec{args: args, livenessPath: live, readinessPath: ready}
}

// flagValues returns every value of --name=value in args, in order.
func flagValues(args []string, name string) []string {
	var vals []string
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			vals = append(vals, v)
		}
	}
	return vals
}

// freeAddress picks a loopback port nobody listens on.
func freeAddress(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestControllerUnderServiceAccount runs controller.Run as the manifests configure it, with
// only the ServiceAccount's rights (impersonation), and checks that a node bootstrapping
// with a kubeadm token gets its certificate, that Events are recorded, that the token
// cleaner may delete an expired token, that the probe paths answer, that the kubernetes
// Service and EndpointSlice are readable by name only, and that servingapproving's watches
// sync (a serving CSR is approved, one naming the kubernetes Service IP denied).
func TestControllerUnderServiceAccount(t *testing.T) {
	ctx := context.Background()
	objs, err := load("example")
	if err != nil {
		t.Fatal(err)
	}
	apply(t, objs)
	spec := controllerContainer(t, find(t, objs, "Deployment", "csr-controller"))

	// --controllers as pflag reads repeated slice flags: the values appended.
	var controllers []string
	for _, v := range flagValues(spec.args, "controllers") {
		controllers = append(controllers, strings.Split(v, ",")...)
	}
	want := []string{controller.CSRApproving, controller.CSRSigning, controller.CSRCleaner, controller.NodeCertificates, controller.ServingApproving, controller.TokenCleaner}
	if !slices.Equal(controllers, want) {
		t.Fatalf("--controllers of the example = %v, want %v", controllers, want)
	}
	if !slices.Contains(spec.args, "--leader-elect") {
		t.Fatalf("the Deployment does not pass --leader-elect: %v", spec.args)
	}
	leaseName := flagValues(spec.args, "leader-elect-resource-name")
	if len(leaseName) != 1 || leaseName[0] != deploy.LeaseName {
		t.Fatalf("--leader-elect-resource-name = %v, want %s", leaseName, deploy.LeaseName)
	}
	// The manifests sign with per-signer flags for the two kubelet signers only.
	signerCAs := map[string]sign.CAProvider{}
	for infix, signer := range controllerflags.SignerFlagNames() {
		certs := flagValues(spec.args, "cluster-signing-"+infix+"-cert-file")
		keys := flagValues(spec.args, "cluster-signing-"+infix+"-key-file")
		if len(certs) == 0 && len(keys) == 0 {
			continue
		}
		if len(certs) != 1 || len(keys) != 1 {
			t.Fatalf("signer %s: cert files %v, key files %v", signer, certs, keys)
		}
		signerCAs[signer] = cp.CA.Signing()
	}
	if len(signerCAs) != 2 || signerCAs[certificatesv1.KubeAPIServerClientKubeletSignerName] == nil || signerCAs[certificatesv1.KubeletServingSignerName] == nil {
		t.Fatalf("the Deployment signs for %v, want the two kubelet signers", signerCAs)
	}

	saClient, err := kubernetes.NewForConfig(cp.ImpersonatingConfig(deploy.ServiceAccountUser, deploy.ServiceAccountGroups...))
	if err != nil {
		t.Fatal(err)
	}
	if who, err := saClient.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{}); err != nil || who.Status.UserInfo.Username != deploy.ServiceAccountUser {
		t.Fatalf("impersonation: %v %+v", err, who)
	}
	metricsAddr := freeAddress(t)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- controller.Run(klog.NewContext(runCtx, ktesting.NewLogger(t, ktesting.NewConfig(ktesting.Verbosity(2)))), saClient, controller.Options{
			Controllers: controllers,
			SignerCAs:   signerCAs,
			LeaderElection: controller.LeaderElection{
				Enabled: true, Namespace: deploy.Namespace, Name: deploy.LeaseName, ReleaseOnCancel: true,
				LeaseDuration: 4 * time.Second, RenewDeadline: 3 * time.Second, RetryPeriod: 500 * time.Millisecond,
			},
			MetricsBindAddress: metricsAddr,
		})
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("controller.Run: %v", err)
		}
	})

	t.Run("probes", func(t *testing.T) {
		for _, p := range []string{spec.livenessPath, spec.readinessPath, "/readyz"} {
			url := "http://" + metricsAddr + p
			err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
				resp, err := http.Get(url)
				if err != nil {
					return false, nil
				}
				resp.Body.Close()
				return resp.StatusCode == http.StatusOK, nil
			})
			if err != nil {
				t.Errorf("%s did not answer 200: %v", url, err)
			}
		}
	})

	t.Run("node bootstraps", func(t *testing.T) {
		preset := rbac.KubeadmPreset(token.KubeadmDefaultGroup)
		if err := rbac.Apply(ctx, cp.Client(), preset); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = rbac.Revoke(ctx, cp.Client(), preset) })
		tok, err := token.Generate()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := token.Create(ctx, cp.Client(), token.DefaultSpec(tok)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = token.Delete(ctx, cp.Client(), tok.ID) })
		cfg, err := kubeconfig.BootstrapConfig(kubeconfig.BootstrapOptions{Server: cp.Host(), CAData: cp.ServingCAPEM(), Token: tok.Bearer()})
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		bootstrapPath := filepath.Join(dir, "bootstrap.kubeconfig")
		if err := kubeconfig.Write(bootstrapPath, cfg); err != nil {
			t.Fatal(err)
		}
		bctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		res, err := node.Bootstrap(bctx, node.Options{
			BootstrapKubeconfig: bootstrapPath, Kubeconfig: filepath.Join(dir, "kubelet.kubeconfig"),
			CertDir: filepath.Join(dir, "pki"), NodeName: "deployed-node", ServerWaitTimeout: 10 * time.Second,
		})
		if err != nil {
			t.Fatalf("node bootstrap with the controller under its ServiceAccount: %v", err)
		}
		roots := x509.NewCertPool()
		roots.AddCert(cp.CA.Cert)
		if _, err := res.Certificate.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Errorf("issued certificate does not verify against the cluster CA: %v", err)
		}
		nodeCfg, err := kubeconfig.RESTConfig(res.Kubeconfig)
		if err != nil {
			t.Fatal(err)
		}
		who, err := kubernetes.NewForConfigOrDie(nodeCfg).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err != nil || who.Status.UserInfo.Username != "system:node:deployed-node" {
			t.Fatalf("the node's kubeconfig authenticates as %+v (%v), want system:node:deployed-node", who, err)
		}

		// The Events Role in "default" lets the controller record its decisions.
		var reasons []string
		err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 15*time.Second, true, func(ctx context.Context) (bool, error) {
			evs, err := cp.Client().CoreV1().Events("default").List(ctx, metav1.ListOptions{
				FieldSelector: fields.OneTermEqualSelector("involvedObject.name", res.CSRName).String()})
			if err != nil {
				return false, err
			}
			reasons = reasons[:0]
			for _, e := range evs.Items {
				reasons = append(reasons, e.Reason)
			}
			return slices.Contains(reasons, "AutoApproved") && slices.Contains(reasons, "Signed"), nil
		})
		if err != nil {
			t.Errorf("Events on %s: reasons %v, want AutoApproved and Signed: %v", res.CSRName, reasons, err)
		}
	})

	t.Run("kubernetes Service and EndpointSlice readable by name only", func(t *testing.T) {
		// The RBAC authorizer takes the name of a list or watch from the field selector
		// metadata.name=<name> and matches it against the Role's resourceNames: what the
		// serving facts' informers send is allowed, a list without the name is not.
		byName := func(name string) metav1.ListOptions {
			return metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String()}
		}
		for _, r := range []struct {
			resource string
			list     func(ns string, o metav1.ListOptions) (int, error)
			watch    func(ns string, o metav1.ListOptions) error
		}{
			{"services", func(ns string, o metav1.ListOptions) (int, error) {
				l, err := saClient.CoreV1().Services(ns).List(ctx, o)
				if err != nil {
					return 0, err
				}
				return len(l.Items), nil
			}, func(ns string, o metav1.ListOptions) error {
				w, err := saClient.CoreV1().Services(ns).Watch(ctx, o)
				if err == nil {
					w.Stop()
				}
				return err
			}},
			{"endpointslices", func(ns string, o metav1.ListOptions) (int, error) {
				l, err := saClient.DiscoveryV1().EndpointSlices(ns).List(ctx, o)
				if err != nil {
					return 0, err
				}
				return len(l.Items), nil
			}, func(ns string, o metav1.ListOptions) error {
				w, err := saClient.DiscoveryV1().EndpointSlices(ns).Watch(ctx, o)
				if err == nil {
					w.Stop()
				}
				return err
			}},
		} {
			var n int
			var lastErr error
			err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
				n, lastErr = r.list(metav1.NamespaceDefault, byName("kubernetes"))
				return lastErr == nil && (r.resource != "services" || n == 1), nil
			})
			if err != nil {
				t.Errorf("list %s in default with metadata.name=kubernetes: %d items, %v", r.resource, n, lastErr)
			}
			if err := r.watch(metav1.NamespaceDefault, byName("kubernetes")); err != nil {
				t.Errorf("watch %s in default with metadata.name=kubernetes: %v", r.resource, err)
			}
			for _, c := range []struct {
				what string
				ns   string
				opts metav1.ListOptions
			}{
				{"in default without a name", metav1.NamespaceDefault, metav1.ListOptions{}},
				{"in default with metadata.name=other", metav1.NamespaceDefault, byName("other")},
				{"in kube-system with metadata.name=kubernetes", metav1.NamespaceSystem, byName("kubernetes")},
				{"in every namespace with metadata.name=kubernetes", metav1.NamespaceAll, byName("kubernetes")},
			} {
				if _, err := r.list(c.ns, c.opts); !apierrors.IsForbidden(err) {
					t.Errorf("list %s %s: %v, want forbidden", r.resource, c.what, err)
				}
				if err := r.watch(c.ns, c.opts); !apierrors.IsForbidden(err) {
					t.Errorf("watch %s %s: %v, want forbidden", r.resource, c.what, err)
				}
			}
		}
	})

	t.Run("serving facts sync", func(t *testing.T) {
		// The approval controller starts once every serving watch (Nodes, the kubernetes
		// Service and EndpointSlice, ServiceCIDRs) has synced, and a forbidden list keeps
		// one from ever syncing: an approved serving CSR proves the ServiceAccount may read
		// them all, and one denied for the kubernetes Service's ClusterIP that the facts
		// hold that Service.
		var clusterIP string // the API server creates its Service a moment after it starts
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
			svc, err := cp.Client().CoreV1().Services(metav1.NamespaceDefault).Get(ctx, "kubernetes", metav1.GetOptions{})
			if err == nil {
				clusterIP = svc.Spec.ClusterIP
			}
			return clusterIP != "", nil
		})
		if err != nil {
			t.Fatalf("the kubernetes Service has no ClusterIP: %v", err)
		}
		preset := rbac.ServingRenewalPreset()
		if err := rbac.Apply(ctx, cp.Client(), preset); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = rbac.Revoke(ctx, cp.Client(), preset) })

		// The Node lists the Service IP in its status, as NodeRestriction lets a kubelet:
		// only the ServiceAddress rule, fed by the Service watch, refuses it.
		const nodeName, nodeIP = "serving-node", "192.0.2.10"
		createNode(t, nodeName,
			corev1.NodeAddress{Type: corev1.NodeHostName, Address: nodeName},
			corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: nodeIP},
			corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: clusterIP})
		user, groups := "system:node:"+nodeName, []string{csr.NodesGroup, "system:authenticated"}
		waitAllowed(t, user, groups, authorizationv1.ResourceAttributes{
			Verb: "create", Group: certificatesv1.GroupName, Resource: "certificatesigningrequests", Subresource: "selfnodeserver"})
		nodeClient, err := kubernetes.NewForConfig(cp.ImpersonatingConfig(user, groups...))
		if err != nil {
			t.Fatal(err)
		}

		own := createServingCSR(t, nodeClient, nodeName, net.ParseIP(nodeIP))
		serviceIP := createServingCSR(t, nodeClient, nodeName, net.ParseIP(nodeIP), net.ParseIP(clusterIP))
		if got := waitDecided(t, own); csrCondition(got, certificatesv1.CertificateApproved) == nil {
			t.Errorf("serving CSR for %s's own addresses: conditions %+v, want Approved", nodeName, got.Status.Conditions)
		}
		got := waitDecided(t, serviceIP)
		if c := csrCondition(got, certificatesv1.CertificateDenied); c == nil || !strings.Contains(c.Message, "rule "+string(approve.RuleServiceAddress)) {
			t.Errorf("serving CSR naming the kubernetes Service IP %s: conditions %+v, want Denied by rule %s", clusterIP, got.Status.Conditions, approve.RuleServiceAddress)
		}
	})

	t.Run("token cleaner deletes an expired token", func(t *testing.T) {
		tok := testenv.WriteToken(t, cp, time.Now().Add(-time.Minute))
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
			_, err := cp.Client().CoreV1().Secrets(token.Namespace).Get(ctx, token.SecretName(tok.ID), metav1.GetOptions{})
			return apierrors.IsNotFound(err), nil
		})
		if err != nil {
			t.Errorf("expired token %s not deleted by the controller: %v", token.SecretName(tok.ID), err)
		}
	})
}

// waitAllowed waits until a SubjectAccessReview allows user in groups attrs (bindings
// reach the RBAC authorizer a moment after they are written).
func waitAllowed(t *testing.T, user string, groups []string, attrs authorizationv1.ResourceAttributes) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 15*time.Second, true, func(ctx context.Context) (bool, error) {
		sar, err := cp.Client().AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
			Spec: authorizationv1.SubjectAccessReviewSpec{User: user, Groups: groups, ResourceAttributes: &attrs},
		}, metav1.CreateOptions{})
		return err == nil && sar.Status.Allowed, nil
	})
	if err != nil {
		t.Fatalf("%s is not allowed %+v: %v", user, attrs, err)
	}
}

// createNode creates a Node (as the admin) with addresses in its status, deleted when the
// test ends.
func createNode(t *testing.T, name string, addrs ...corev1.NodeAddress) {
	t.Helper()
	ctx := context.Background()
	n, err := cp.Client().CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cp.Client().CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{}) })
	n.Status.Addresses = addrs
	if _, err := cp.Client().CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// createServingCSR submits, as the node's client, a kubelet serving CSR for the node's
// name and ips, deleted when the test ends.
func createServingCSR(t *testing.T, as kubernetes.Interface, nodeName string, ips ...net.IP) string {
	t.Helper()
	ctx := context.Background()
	key, err := csr.GenerateKey(csr.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := csr.NodeServingSpec(nodeName, []string{nodeName}, ips, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	created, err := csr.Submit(ctx, as, csr.New(spec), key)
	if err != nil {
		t.Fatalf("submitting a serving CSR as %s: %v", nodeName, err)
	}
	t.Cleanup(func() {
		_ = cp.Client().CertificatesV1().CertificateSigningRequests().Delete(ctx, created.Name, metav1.DeleteOptions{})
	})
	return created.Name
}

// waitDecided waits until the CSR is Approved or Denied and returns it.
func waitDecided(t *testing.T, name string) *certificatesv1.CertificateSigningRequest {
	t.Helper()
	var got *certificatesv1.CertificateSigningRequest
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		obj, err := cp.Client().CertificatesV1().CertificateSigningRequests().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		got = obj
		return csrCondition(obj, certificatesv1.CertificateApproved) != nil || csrCondition(obj, certificatesv1.CertificateDenied) != nil, nil
	})
	if err != nil {
		state := "not found"
		if got != nil {
			state = csr.StateOf(got).String()
		}
		t.Fatalf("CSR %s not decided (did the serving watches sync?): %s", name, state)
	}
	return got
}

// csrCondition returns the CSR's condition of type ct, or nil.
func csrCondition(obj *certificatesv1.CertificateSigningRequest, ct certificatesv1.RequestConditionType) *certificatesv1.CertificateSigningRequestCondition {
	i := slices.IndexFunc(obj.Status.Conditions, func(c certificatesv1.CertificateSigningRequestCondition) bool { return c.Type == ct })
	if i < 0 {
		return nil
	}
	return &obj.Status.Conditions[i]
}

// TestKustomizeBuild renders the example with kubectl's kustomize, when kubectl is
// installed, and checks what the test loader cannot: the generated CA Secret and the
// Deployment's reference to it agree, and the components' flags are appended.
func TestKustomizeBuild(t *testing.T) {
	kubectl, err := lookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not installed; the manifests are still checked by the loader in TestLeastPrivilege")
	}
	out := kustomizeBuild(t, kubectl)
	secretName := ""
	var deploymentSecret string
	var args []string
	for _, o := range out {
		switch {
		case o.GetKind() == "Secret" && strings.HasPrefix(o.GetName(), deploy.CASecret):
			secretName = o.GetName()
		case o.GetKind() == "Deployment":
			vols, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "volumes")
			for _, v := range vols {
				deploymentSecret, _, _ = unstructured.NestedString(v.(map[string]any), "secret", "secretName")
			}
			args = controllerContainer(t, o).args
		}
	}
	if secretName == "" || secretName != deploymentSecret {
		t.Errorf("generated CA Secret %q, Deployment mounts %q", secretName, deploymentSecret)
	}
	if got := fmt.Sprint(flagValues(args, "controllers")); got != "[csrapproving,csrsigning,csrcleaner,nodecertificates servingapproving tokencleaner]" {
		t.Errorf("--controllers values %s", got)
	}
	// The loader's objects plus the generated Secret.
	loaded, err := load("example")
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(loaded)+1 {
		t.Errorf("kustomize rendered %d objects, the loader %d (+1 generated Secret)", len(out), len(loaded))
	}
}
