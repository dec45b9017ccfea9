package main

import (
	"crypto/x509"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/tlsbootstrap/tlsbootstrap/internal/nodereg"
	"github.com/tlsbootstrap/tlsbootstrap/node"
)

// runOptions asks node.Start for the renewals the flags ask for: the client certificate
// (always, once running), the serving certificate for --node-ip and the node name (the
// addresses --register-node writes), and --renew-after. Each manager logs its rotations ("rotated certificate" with
// the old and new serial, NotAfter and the next deadline).
func (f *flags) runOptions(opts node.Options) node.RunOptions {
	ro := node.RunOptions{Options: opts}
	if f.rotateServing {
		ro.ServingAddresses = func() []corev1.NodeAddress { return nodereg.Addresses(f.nodeIPs, f.nodeName) }
	}
	if f.renewAfter > 0 {
		after := f.renewAfter
		ro.Deadline = func(*x509.Certificate) time.Time { return time.Now().Add(after) }
	}
	return ro
}
