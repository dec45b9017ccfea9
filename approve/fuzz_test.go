package approve_test

import (
	"strings"
	"testing"

	certificatesv1 "k8s.io/api/certificates/v1"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// FuzzClassify: a CSR built from any spec.request bytes, any comma-separated usages and
// any signer name is classified or refused with an error, never a panic; whatever it
// recognizes as a kubelet client kind really passes the kubelet client rules on the
// kubelet client signer (a wrong recognition is an auto-approval the rules forbid).
func FuzzClassify(f *testing.F) {
	client := kubeletRequest("n1").pem(f)
	serving := kubeletRequest("n1").withDNS("n1.example").withIPs("10.0.0.1").pem(f)
	f.Add(client, "digital signature,client auth", certificatesv1.KubeAPIServerClientKubeletSignerName, "system:node:n1")
	f.Add(client, "client auth", certificatesv1.KubeAPIServerClientKubeletSignerName, "system:bootstrap:abcdef")
	f.Add(serving, "digital signature,server auth", certificatesv1.KubeletServingSignerName, "system:node:n1")
	f.Add(kubeletRequest("n1").withOrgs("system:nodes", "system:masters").pem(f), "client auth", certificatesv1.KubeAPIServerClientKubeletSignerName, "system:node:n1")
	f.Add(append(append([]byte{}, client...), client...), "client auth", certificatesv1.KubeAPIServerClientKubeletSignerName, "")
	f.Add([]byte("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"), "", "", "")
	f.Fuzz(func(t *testing.T, request []byte, usages, signer, requester string) {
		var us []certificatesv1.KeyUsage
		for _, u := range strings.Split(usages, ",") {
			if u != "" {
				us = append(us, certificatesv1.KeyUsage(u))
			}
		}
		c, err := approve.Classify(csrObject("fuzz", signer, requester, us, request))
		if err != nil {
			if len(c.Kinds) > 0 {
				t.Fatalf("Classify recognized %v and returned error %v", c.Kinds, err)
			}
			return
		}
		for _, e := range c.NotRecognized {
			_ = e.Error()
		}
		if c.Is(approve.KindSelfNodeClient) || c.Is(approve.KindNodeClient) {
			if signer != certificatesv1.KubeAPIServerClientKubeletSignerName {
				t.Fatalf("recognized %v on signer %q", c.Kinds, signer)
			}
			if err := csr.ValidateKubeletClient(c.Request, us); err != nil {
				t.Fatalf("recognized %v but the kubelet client rules say %v", c.Kinds, err)
			}
		}
		if c.Is(approve.KindSelfNodeServer) {
			if signer != certificatesv1.KubeletServingSignerName {
				t.Fatalf("recognized %v on signer %q", c.Kinds, signer)
			}
			if err := csr.ValidateKubeletServing(c.Request, us); err != nil {
				t.Fatalf("recognized %v but the kubelet serving rules say %v", c.Kinds, err)
			}
		}
	})
}
