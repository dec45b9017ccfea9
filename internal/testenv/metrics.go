package testenv

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tlsbootstrap/tlsbootstrap/trust"
	"k8s.io/client-go/kubernetes"
)

// Metric reads one series of g: a counter's or gauge's value, or a histogram's sample
// count. The series is the first of name whose labels include every pair of labels
// (a label a series lacks reads as ""); ok says whether one exists.
func Metric(t testing.TB, g prometheus.Gatherer, name string, labels map[string]string) (value float64, ok bool) {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue series
				}
			}
			switch {
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount()), true
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue(), true
			default:
				return m.GetCounter().GetValue(), true
			}
		}
	}
	return 0, false
}

// NeedClusterTrustBundles skips t, with the reason, on an API server that does not serve
// ClusterTrustBundles at trust.ClusterTrustBundleAPI (Kubernetes before 1.37): the tests
// of what is published there cannot run on it. The ConfigMap-only path is tested anyway.
func NeedClusterTrustBundles(t testing.TB, client kubernetes.Interface) {
	t.Helper()
	served, reason, err := trust.ServesClusterTrustBundles(client.Discovery())
	if err != nil {
		t.Fatal(err)
	}
	if !served {
		t.Skip(reason)
	}
}
