package sign_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

// A Signer that serves, besides nothing built in, a signer name of your own for workload
// serving certificates: Service DNS names and the service CIDR only, at most 30 days.
func ExampleSignerPolicy() {
	ca, err := sign.NewSelfSignedCA(sign.SelfSignedOptions{CommonName: "workload-ca"})
	if err != nil {
		panic(err)
	}
	signer, err := sign.NewSigner(sign.SignerOptions{CustomSigners: []sign.SignerPolicy{{
		SignerName:         "example.com/workload-serving",
		CA:                 ca,
		MaxDuration:        30 * 24 * time.Hour,
		AllowedDNSSuffixes: []string{"*.svc.cluster.local", "*.svc"},
		AllowedIPRanges:    []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12")},
	}}})
	if err != nil {
		panic(err)
	}
	fmt.Println(signer.Handles("example.com/workload-serving"), signer.Handles("kubernetes.io/kubelet-serving"))
	// Output:
	// true false
}
