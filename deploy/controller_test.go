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

	authenticationv1 "k8s.io/api/authentication/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2/ktesting"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/deploy"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/node"
	"github.com/tlsbootstrap/tlsbootstrap/rbac"
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
// cleaner may delete an expired token, and that the probe paths answer.
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
	want := []string{controller.CSRApproving, controller.CSRSigning, controller.CSRCleaner, controller.ServingApproving, controller.TokenCleaner}
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
	signerCAs := map[string]controller.CAFiles{}
	for infix, signer := range controller.SignerFlagNames {
		certs := flagValues(spec.args, "cluster-signing-"+infix+"-cert-file")
		keys := flagValues(spec.args, "cluster-signing-"+infix+"-key-file")
		if len(certs) == 0 && len(keys) == 0 {
			continue
		}
		if len(certs) != 1 || len(keys) != 1 {
			t.Fatalf("signer %s: cert files %v, key files %v", signer, certs, keys)
		}
		signerCAs[signer] = controller.CAFiles{CertFile: cp.CACertFile, KeyFile: cp.CAKeyFile}
	}
	if len(signerCAs) != 2 || signerCAs[certificatesv1.KubeAPIServerClientKubeletSignerName] == (controller.CAFiles{}) || signerCAs[certificatesv1.KubeletServingSignerName] == (controller.CAFiles{}) {
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
		done <- controller.Run(runCtx, saClient, controller.Options{
			Controllers: controllers,
			SignerCAs:   signerCAs,
			LeaderElection: controller.LeaderElection{
				Enabled: true, Namespace: deploy.Namespace, Name: deploy.LeaseName, ReleaseOnCancel: true,
				LeaseDuration: 4 * time.Second, RenewDeadline: 3 * time.Second, RetryPeriod: 500 * time.Millisecond,
			},
			MetricsBindAddress: metricsAddr,
			Logger:             ktesting.NewLogger(t, ktesting.NewConfig(ktesting.Verbosity(2))),
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
		cfg, err := kubeconfig.Bootstrap(kubeconfig.BootstrapOptions{Server: cp.Host(), CAData: cp.ServingCAPEM(), Token: tok.Reveal()})
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
	if got := fmt.Sprint(flagValues(args, "controllers")); got != "[csrapproving,csrsigning,csrcleaner servingapproving tokencleaner]" {
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
