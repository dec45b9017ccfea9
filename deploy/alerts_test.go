package deploy_test

import (
	"context"
	"io/fs"
	"net"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"sigs.k8s.io/yaml"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/deploy"
	"github.com/tlsbootstrap/tlsbootstrap/internal/csrtest"
)

type ruleGroups struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []struct {
			Alert       string            `json:"alert"`
			Expr        string            `json:"expr"`
			For         string            `json:"for,omitempty"`
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
		} `json:"rules"`
	} `json:"groups"`
}

func readRules(t *testing.T) ruleGroups {
	t.Helper()
	var plain ruleGroups
	data, err := fs.ReadFile(deploy.Manifests, "alerts/tlsbootstrap.rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(data, &plain); err != nil {
		t.Fatalf("alerts/tlsbootstrap.rules.yaml: %v", err)
	}
	var operator struct {
		APIVersion string     `json:"apiVersion"`
		Kind       string     `json:"kind"`
		Spec       ruleGroups `json:"spec"`
	}
	if data, err = fs.ReadFile(deploy.Manifests, "components/prometheusrule/prometheusrule.yaml"); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &operator); err != nil {
		t.Fatalf("components/prometheusrule/prometheusrule.yaml: %v", err)
	}
	if operator.APIVersion != "monitoring.coreos.com/v1" || operator.Kind != "PrometheusRule" {
		t.Errorf("the component holds a %s %s, want a monitoring.coreos.com/v1 PrometheusRule", operator.APIVersion, operator.Kind)
	}
	if !reflect.DeepEqual(plain, operator.Spec) {
		t.Errorf("the PrometheusRule's groups differ from alerts/tlsbootstrap.rules.yaml: regenerate one from the other")
	}
	return plain
}

// The alert rules: the plain file and the PrometheusRule agree, every rule is complete,
// and every tlsbootstrap metric a rule uses is on the /metrics of a running controller
// (one that has signed a certificate and refused one, as any will have in a day).
func TestAlertRules(t *testing.T) {
	rules := readRules(t)
	metric := regexp.MustCompile(`\btlsbootstrap_[a-z_]+`)
	used := map[string][]string{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || r.Expr == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("rule %q lacks an alert name, expr, severity, summary or description", r.Alert)
			}
			if strings.Count(r.Expr, "(") != strings.Count(r.Expr, ")") || strings.Count(r.Expr, "{") != strings.Count(r.Expr, "}") {
				t.Errorf("rule %s: unbalanced expression %q", r.Alert, r.Expr)
			}
			for _, m := range metric.FindAllString(r.Expr, -1) {
				used[m] = append(used[m], r.Alert)
			}
		}
	}
	if len(used) < 4 {
		t.Fatalf("the rules use %d tlsbootstrap metrics: %v", len(used), used)
	}

	exported := scrapeRunningController(t)
	for m, alerts := range used {
		if !exported[m] {
			t.Errorf("metric %s (used by %v) is not on the controller's /metrics", m, alerts)
		}
	}
}

// scrapeRunningController runs the controller with a metrics server, has it sign one
// kubelet client certificate and refuse a request with a usage its signer forbids, and
// returns the metric families on /metrics.
func scrapeRunningController(t *testing.T) map[string]bool {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	ctx, cancel := context.WithCancel(klog.NewContext(context.Background(), logr.Discard()))
	done := make(chan error, 1)
	go func() {
		done <- controller.Run(ctx, cp.Client(), controller.Options{
			Controllers:              []string{controller.CSRApproving, controller.CSRSigning, controller.NodeCertificates},
			NodeCertificateNamespace: "default",
			ClusterSigningCA:         cp.CA.Signing(),
			MetricsBindAddress:       addr,
		})
	}()
	t.Cleanup(func() { cancel(); <-done })

	good, _ := csrtest.KubeletClientCSR(t, csrtest.UniqueName(t), "alerts-node")
	good = csrtest.Create(t, cp.Client(), good)
	bad, _ := csrtest.KubeletClientCSR(t, csrtest.UniqueName(t), "alerts-bad")
	bad.Spec.Usages = append(bad.Spec.Usages, certificatesv1.UsageServerAuth)
	bad = csrtest.Create(t, cp.Client(), bad)
	t.Cleanup(func() {
		for _, name := range []string{good.Name, bad.Name} {
			_ = cp.Client().CertificatesV1().CertificateSigningRequests().Delete(context.Background(), name, metav1.DeleteOptions{})
		}
	})
	csrtest.SetCondition(t, cp.Client(), bad, certificatesv1.CertificateApproved)
	csrtest.WaitFor(t, "one certificate issued and one request Failed", func() bool {
		g, err1 := cp.Client().CertificatesV1().CertificateSigningRequests().Get(ctx, good.Name, metav1.GetOptions{})
		b, err2 := cp.Client().CertificatesV1().CertificateSigningRequests().Get(ctx, bad.Name, metav1.GetOptions{})
		return err1 == nil && err2 == nil && len(g.Status.Certificate) > 0 && csr.Condition(b, certificatesv1.CertificateFailed) != nil
	})

	var families map[string]bool
	csrtest.WaitFor(t, "the controller's /metrics", func() bool {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		parser := expfmt.NewTextParser(model.UTF8Validation)
		parsed, err := parser.TextToMetricFamilies(resp.Body)
		if err != nil {
			t.Logf("parsing /metrics: %v", err)
			return false
		}
		families = map[string]bool{}
		for name := range parsed {
			families[name] = true
		}
		return families["tlsbootstrap_csrs"]
	})
	return families
}
