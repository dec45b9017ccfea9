// Package clientmetrics counts a client's API requests as kube-controller-manager exports
// them, rest_client_requests_total{code,method,host}, so a tlsbootstrap process and
// Kubernetes' own controllers are measured the same way (by the storm benchmark, by
// operators' dashboards).
//
// It counts at the client's transport, one increment per HTTP attempt with its status
// code (as client-go's own hook does), rather than through client-go's process-wide
// metric hooks: those take only the first registration in a process, and a library
// linked into the program (controller-runtime's metrics package) may have taken them.
package clientmetrics

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/rest"

	"github.com/tlsbootstrap/tlsbootstrap/internal/metrics"
)

// RequestsMetric is the counter's name, as component-base's restclient metrics name it.
const RequestsMetric = "rest_client_requests_total"

// Count makes every client built from cfg count its requests in a counter registered
// with reg. Call it once per registry, before building the clients.
func Count(cfg *rest.Config, reg prometheus.Registerer) error {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: RequestsMetric,
		Help: "Number of HTTP requests, partitioned by status code, method, and host.",
	}, []string{"code", "method", "host"})
	if err := metrics.Register(reg, "client request", requests); err != nil {
		return err
	}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripper{next: rt, requests: requests}
	})
	return nil
}

type roundTripper struct {
	next     http.RoundTripper
	requests *prometheus.CounterVec
}

func (r roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	code := "<error>" // client-go's label for a request that got no response
	if err == nil {
		code = strconv.Itoa(resp.StatusCode)
	}
	r.requests.WithLabelValues(code, req.Method, req.URL.Host).Inc()
	return resp, err
}
