package approve

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
)

// NodeGetter finds a Node by name; a missing Node is an error for which
// apierrors.IsNotFound is true.
type NodeGetter interface {
	GetNode(ctx context.Context, name string) (*corev1.Node, error)
}

// NodeGetterFunc adapts a function to NodeGetter.
type NodeGetterFunc func(ctx context.Context, name string) (*corev1.Node, error)

// GetNode calls f.
func (f NodeGetterFunc) GetNode(ctx context.Context, name string) (*corev1.Node, error) {
	return f(ctx, name)
}

// NodesFromClient reads Nodes from the API server (needs get on nodes).
func NodesFromClient(client kubernetes.Interface) NodeGetter {
	return NodeGetterFunc(func(ctx context.Context, name string) (*corev1.Node, error) {
		return client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	})
}

// NodesFromLister reads Nodes from an informer's cache.
func NodesFromLister(lister corelisters.NodeLister) NodeGetter {
	return NodeGetterFunc(func(_ context.Context, name string) (*corev1.Node, error) {
		return lister.Get(name)
	})
}

// SANError is a serving CSR's subjectAltName that is not among its Node's addresses.
type SANError struct {
	Node string
	// Type is "DNS" or "IP".
	Type  string
	Value string
}

func (e *SANError) Error() string {
	return fmt.Sprintf("%s subjectAltName %q is not among the addresses of node %q", e.Type, e.Value, e.Node)
}

// Which Node address types may back which SAN type.
var (
	dnsAddressTypes = []corev1.NodeAddressType{corev1.NodeHostName, corev1.NodeInternalDNS, corev1.NodeExternalDNS}
	ipAddressTypes  = []corev1.NodeAddressType{corev1.NodeInternalIP, corev1.NodeExternalIP}
)

// checkServingSANs returns a *SANError for the first DNS or IP SAN of req that node does
// not list in status.addresses, or nil when all are there.
func checkServingSANs(req *x509.CertificateRequest, node *corev1.Node) error {
	var names []string
	var ips []net.IP
	for _, a := range node.Status.Addresses {
		switch {
		case hasType(dnsAddressTypes, a.Type):
			names = append(names, a.Address)
		case hasType(ipAddressTypes, a.Type):
			if ip := net.ParseIP(a.Address); ip != nil {
				ips = append(ips, ip)
			}
		}
	}
	for _, dns := range req.DNSNames {
		if !containsFold(names, dns) {
			return &SANError{Node: node.Name, Type: "DNS", Value: dns}
		}
	}
	for _, ip := range req.IPAddresses {
		if !containsIP(ips, ip) {
			return &SANError{Node: node.Name, Type: "IP", Value: ip.String()}
		}
	}
	return nil
}

func hasType(types []corev1.NodeAddressType, t corev1.NodeAddressType) bool {
	for _, want := range types {
		if want == t {
			return true
		}
	}
	return false
}

// containsFold compares DNS names case-insensitively, as DNS does.
func containsFold(names []string, name string) bool {
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

func containsIP(ips []net.IP, ip net.IP) bool {
	for _, have := range ips {
		if have.Equal(ip) {
			return true
		}
	}
	return false
}
