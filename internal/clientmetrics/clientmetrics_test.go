package clientmetrics

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// A client-go request is counted under its code and method.
func TestRegisterCountsRequests(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","code":404,"reason":"NotFound"}`, http.StatusNotFound)
	}))
	defer server.Close()
	reg := prometheus.NewRegistry()
	cfg := &rest.Config{Host: server.URL}
	if err := Count(cfg, reg); err != nil {
		t.Fatal(err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = client.CoreV1().ConfigMaps("default").Get(context.Background(), "x", metav1.GetOptions{})
	want := fmt.Sprintf(`
# HELP %[1]s Number of HTTP requests, partitioned by status code, method, and host.
# TYPE %[1]s counter
%[1]s{code="404",host=%[2]q,method="GET"} 1
`, RequestsMetric, server.Listener.Addr().String())
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), RequestsMetric); err != nil {
		t.Error(err)
	}
	if err := Count(&rest.Config{}, reg); err == nil {
		t.Errorf("a second counter in the same registry was accepted")
	}
}
