package controllerflags

import (
	"testing"

	"k8s.io/client-go/rest"
)

func TestRESTConfig(t *testing.T) {
	in := &rest.Config{Host: "https://example.invalid"}
	out := RESTConfig(in)
	if out == in || in.ContentType != "" || in.QPS != 0 {
		t.Fatal("RESTConfig changed its argument instead of a copy")
	}
	if out.ContentType != "application/vnd.kubernetes.protobuf" || out.QPS != DefaultQPS || out.Burst != DefaultBurst || out.UserAgent != "tlsbootstrap-csr-controller" {
		t.Errorf("RESTConfig = content %q qps %v burst %d agent %q", out.ContentType, out.QPS, out.Burst, out.UserAgent)
	}
	kept := RESTConfig(&rest.Config{QPS: 7, Burst: 9, UserAgent: "mine"})
	if kept.QPS != 7 || kept.Burst != 9 || kept.UserAgent != "mine" {
		t.Errorf("RESTConfig overrode set values: qps %v burst %d agent %q", kept.QPS, kept.Burst, kept.UserAgent)
	}
}
