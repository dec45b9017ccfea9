package controller

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
)

// Client defaults of the controllers' API client (csr-controller's --kube-api-qps and
// --kube-api-burst). kube-controller-manager's 20/30 is what makes its approvals crawl in a
// join storm; this controller's requests are bounded by the CSRs that arrive (about two
// writes each), and the API server's priority and fairness protects it from any one client.
const (
	DefaultQPS   = 500
	DefaultBurst = 1000
)

// RESTConfig returns a copy of cfg ready for Run: Kubernetes protobuf for built-in types
// (smaller and cheaper to encode and decode than JSON, on the API server too), the
// controller's user agent when cfg has none, and DefaultQPS/DefaultBurst when cfg leaves
// them zero.
func RESTConfig(cfg *rest.Config) *rest.Config {
	out := rest.CopyConfig(cfg)
	out.ContentType = runtime.ContentTypeProtobuf
	out.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	if out.UserAgent == "" {
		out.UserAgent = EventSource
	}
	if out.QPS == 0 {
		out.QPS = DefaultQPS
	}
	if out.Burst == 0 {
		out.Burst = DefaultBurst
	}
	return out
}
