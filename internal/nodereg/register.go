// Package nodereg creates or updates a node's own Node object, for test clusters without a
// kubelet (node-agent --register-node): a kubelet registers its Node itself, with what it
// and the cloud provider know (labels, taints, capacity, providerID), which a Node made
// beforehand would lack.
package nodereg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// hostnameLabel is the label the kubelet sets on its Node to its hostname.
const hostnameLabel = "kubernetes.io/hostname"

// Options configure Register.
type Options struct {
	// NodeName of the Node object; it must be the client's own node (system:node:<name>).
	NodeName string
	// Addresses become status.addresses; see Addresses.
	Addresses []corev1.NodeAddress
}

// Addresses builds a Node's status.addresses as the kubelet does from --node-ip and the
// hostname: an InternalIP per IP, then the Hostname.
func Addresses(ips []net.IP, hostname string) []corev1.NodeAddress {
	var out []corev1.NodeAddress
	for _, ip := range ips {
		out = append(out, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: ip.String()})
	}
	if hostname != "" {
		out = append(out, corev1.NodeAddress{Type: corev1.NodeHostName, Address: hostname})
	}
	return out
}

// Register creates the node's own Node object when it is missing and sets its
// status.addresses, with the node's own identity. It is for test clusters without a
// kubelet (where it stands in for the kubelet's --register-node, e.g. so that serving
// certificates can be approved against the Node's addresses): the Node it creates is
// bare, with only the hostname label, and a Node that exists before the kubelet registers
// skips what the kubelet and the cloud provider set at registration (labels, taints,
// capacity, providerID...). Where a kubelet runs, let it register the Node.
//
// The API server's Node authorizer and NodeRestriction admission allow a node this for
// its own object only; another node's object is refused with a clear error.
func Register(ctx context.Context, client kubernetes.Interface, opts Options) (*corev1.Node, error) {
	if opts.NodeName == "" {
		return nil, errors.New("register node: node name is empty")
	}
	nodes := client.CoreV1().Nodes()
	_, err := nodes.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name:   opts.NodeName,
		Labels: map[string]string{hostnameLabel: opts.NodeName},
	}}, metav1.CreateOptions{})
	switch {
	case err == nil:
	case apierrors.IsAlreadyExists(err):
	case apierrors.IsForbidden(err):
		return nil, fmt.Errorf("register node %s: the API server refused (a node may register only its own Node object, as system:node:%s): %w", opts.NodeName, opts.NodeName, err)
	default:
		return nil, fmt.Errorf("register node %s: %w", opts.NodeName, err)
	}
	var node *corev1.Node
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		current, err := nodes.Get(ctx, opts.NodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if slices.Equal(current.Status.Addresses, opts.Addresses) {
			node = current
			return nil
		}
		current.Status.Addresses = opts.Addresses
		node, err = nodes.UpdateStatus(ctx, current, metav1.UpdateOptions{})
		return err
	})
	if apierrors.IsForbidden(err) {
		return nil, fmt.Errorf("register node %s: the API server refused the status update (a node may update only its own Node): %w", opts.NodeName, err)
	}
	if err != nil {
		return nil, fmt.Errorf("register node %s: setting addresses: %w", opts.NodeName, err)
	}
	return node, nil
}
