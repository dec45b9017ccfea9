package conformance

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"strings"

	certificatesv1 "k8s.io/api/certificates/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tlsbootstrap/tlsbootstrap/internal/serial"
)

// rotationCase runs a node that stays up (Options.NodeRotateCommand) and watches it renew
// its client certificate through its own identity. The signer's 10-minute minimum makes
// waiting for the natural 70–90% deadline impractical, so the command must renew early.
func rotationCase() testCase {
	return testCase{
		Name: "rotates-before-expiry", Profile: ProfileNode, Features: []Feature{FeatureClientRotation},
		Description: "a running node (Options.NodeRotateCommand) renews its client certificate before it expires: " +
			"a second CSR made by system:node:<name> itself (selfnodeclient) is issued, the certificate behind the " +
			"kubeconfig changes serial and public key, and the kubeconfig still authenticates as the node",
		Run: func(ctx context.Context, t *caseT) {
			if len(t.Options.NodeRotateCommand) == 0 {
				t.Skipf("no rotating node command configured (Options.NodeRotateCommand / --node-rotate-command): rotation cannot be observed")
			}
			n := t.prepareNode(ctx, t.Options.NodeRotateCommand)
			// The node renews as itself: grant system:node:<name> what kubeadm grants the
			// system:nodes group, so the case does not depend on the cluster's bindings.
			t.nodeRequester(ctx, n.name, grantCreateCSR, grantSelfNodeClient)
			p := n.start(t)

			first := t.waitKubeconfigCertificate(ctx, n, p, nil)
			expectNodeIdentity(ctx, t, n)
			t.Eventually(ctx, fmt.Sprintf("a renewal CSR made by %s (selfnodeclient) to be Approved and issued", nodeUser(n.name)),
				func(ctx context.Context) (bool, string, error) {
					if msg, exited := p.exited(); exited {
						return false, msg, fmt.Errorf("%s", msg)
					}
					csrs, err := t.nodeCSRs(ctx, n.name)
					if err != nil {
						return false, err.Error(), nil
					}
					var seen []string
					for i := range csrs {
						c := &csrs[i]
						if c.Spec.Username == nodeUser(n.name) && findCondition(c, certificatesv1.CertificateApproved) != nil && len(c.Status.Certificate) > 0 {
							return true, "", nil
						}
						seen = append(seen, fmt.Sprintf("%s by %s: %s", c.Name, c.Spec.Username, describeCSR(c)))
					}
					return false, fmt.Sprintf("CSRs for the node: [%s]", strings.Join(seen, "; ")), nil
				})
			second := t.waitKubeconfigCertificate(ctx, n, p, first)
			if !second.NotBefore.Before(first.NotAfter) {
				t.Errorf("expected the renewal before the first certificate expired (%s); the new one starts %s", first.NotAfter, second.NotBefore)
			}
			expectNodeIdentity(ctx, t, n)
		},
	}
}

// waitKubeconfigCertificate waits until the kubeconfig's client certificate can be read
// and, when old is set, differs from old in serial; a new serial with the old public key
// fails the case (a renewal must use a new key).
func (t *caseT) waitKubeconfigCertificate(ctx context.Context, n *testNode, p *nodeProcess, old *x509.Certificate) *x509.Certificate {
	expected := "the node command to write a kubeconfig with a client certificate at " + n.kubeconfig
	if old != nil {
		expected = fmt.Sprintf("the certificate behind %s to be replaced (serial %s)", n.kubeconfig, serial.Hex(old.SerialNumber))
	}
	var got *x509.Certificate
	t.Eventually(ctx, expected, func(context.Context) (bool, string, error) {
		if msg, exited := p.exited(); exited {
			return false, msg, fmt.Errorf("%s", msg)
		}
		cert, err := kubeconfigCertificate(n.kubeconfig)
		if err != nil {
			return false, err.Error(), nil
		}
		got = cert
		if old == nil {
			return true, "", nil
		}
		if cert.SerialNumber.Cmp(old.SerialNumber) == 0 {
			return false, "serial " + serial.Hex(cert.SerialNumber) + " still in use", nil
		}
		if bytes.Equal(cert.RawSubjectPublicKeyInfo, old.RawSubjectPublicKeyInfo) {
			return false, "", fmt.Errorf("certificate serial %s replaced by %s with the same public key (a renewal must use a new key)", serial.Hex(old.SerialNumber), serial.Hex(cert.SerialNumber))
		}
		return true, "", nil
	})
	return got
}

// kubeconfigCertificate reads the client certificate a kubeconfig uses, embedded or from
// the file it names (re-read each time: rotation swaps the file, not the kubeconfig).
func kubeconfigCertificate(path string) (*x509.Certificate, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %v", path, err)
	}
	data := rc.CertData
	if len(data) == 0 {
		if rc.CertFile == "" {
			return nil, fmt.Errorf("%s has no client certificate", path)
		}
		if data, err = os.ReadFile(rc.CertFile); err != nil {
			return nil, fmt.Errorf("reading the client certificate of %s: %v", path, err)
		}
	}
	cert, err := firstCertificate(data)
	if err != nil {
		return nil, fmt.Errorf("client certificate of %s: %v", path, err)
	}
	return cert, nil
}
