// Package controllerflags holds what the controller programs (csr-controller, storm) share
// about their flags and API client: kube-controller-manager's per-signer flag names and the
// API client settings.
package controllerflags

import (
	certificatesv1 "k8s.io/api/certificates/v1"
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

// RESTConfig returns a copy of cfg ready for controller.Run: Kubernetes protobuf for built-in types
// (smaller and cheaper to encode and decode than JSON, on the API server too), the
// controller's user agent when cfg has none, and DefaultQPS/DefaultBurst when cfg leaves
// them zero.
func RESTConfig(cfg *rest.Config) *rest.Config {
	out := rest.CopyConfig(cfg)
	out.ContentType = runtime.ContentTypeProtobuf
	out.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	if out.UserAgent == "" {
		out.UserAgent = "tlsbootstrap-csr-controller"
	}
	if out.QPS == 0 {
		out.QPS = DefaultQPS
	}
	if out.Burst == 0 {
		out.Burst = DefaultBurst
	}
	return out
}

// SignerFlagNames maps the per-signer flag infix of kube-controller-manager
// (--cluster-signing-<infix>-cert-file) to the signer name.
func SignerFlagNames() map[string]string {
	return map[string]string{
		"kubelet-serving":       certificatesv1.KubeletServingSignerName,
		"kubelet-client":        certificatesv1.KubeAPIServerClientKubeletSignerName,
		"kube-apiserver-client": certificatesv1.KubeAPIServerClientSignerName,
		"legacy-unknown":        "kubernetes.io/legacy-unknown",
	}
}
