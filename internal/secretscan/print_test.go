package secretscan_test

import (
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/internal/tokenfile"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/node"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// TestOptionsNeverPrintSecrets: the exported options and results that carry a token, a
// bearer credential or a CA key show none of it with %v, %+v, %#v, %s or JSON (a JSON
// encoding may also fail, on a function field: that leaks nothing either).
func TestOptionsNeverPrintSecrets(t *testing.T) {
	tok, err := token.Generate()
	if err != nil {
		t.Fatal(err)
	}
	ca, err := sign.NewSelfSignedCA(sign.SelfSignedOptions{CommonName: "print-test"})
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := ca.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	keyD := ca.Key.(*ecdsa.PrivateKey).D.String()
	bearer := &rest.Config{Host: "https://192.0.2.1:6443", BearerToken: tok.Reveal()}
	needles := []string{tok.Secret, keyD, strings.Split(string(keyPEM), "\n")[1]}

	for name, v := range map[string]any{
		"token.Token":                 tok,
		"token.Secret":                tok.Bearer(),
		"token.Spec":                  token.Spec{Token: tok, Description: "x"},
		"tokenfile.Entry":             tokenfile.Entry{Token: tok.Reveal(), User: "u", UID: "1"},
		"kubeconfig.BootstrapOptions": kubeconfig.BootstrapOptions{Server: "https://192.0.2.1", Token: tok.Bearer()},
		"kubeconfig.DiscoverOptions":  kubeconfig.DiscoverOptions{Server: "https://192.0.2.1", Token: tok},
		"node.Options":                node.Options{Bootstrap: bearer, Kubeconfig: "k", CertDir: "d", NodeName: "n"},
		"node.Discovery":              node.Discovery{Server: "https://192.0.2.1", Token: tok},
		"node.RunOptions":             node.RunOptions{Options: node.Options{Bootstrap: bearer}, Discovery: &node.Discovery{Token: tok}},
		"controller.Options":          controller.Options{ClusterSigningCA: ca, SignerCAs: map[string]sign.CAProvider{"kubernetes.io/kubelet-serving": ca}},
		"sign.CA":                     *ca,
		"*sign.CA":                    ca,
	} {
		for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(format, v)
			for _, n := range needles {
				if strings.Contains(out, n) {
					t.Errorf("%s printed with %s shows a secret: %s", name, format, out)
				}
			}
		}
		if data, err := json.Marshal(v); err == nil {
			for _, n := range needles {
				if strings.Contains(string(data), n) {
					t.Errorf("%s in JSON shows a secret: %s", name, data)
				}
			}
		}
	}
}
