//go:build ignore

// Command kubelet-bootstrap runs the real kubelet's certificate code and exits: the
// reference node implementation for comparisons and conformance runs. The assets script
// (../assets.sh) builds it inside its throwaway k8s.io/kubernetes module; it is not part of
// the tlsbootstrap module.
//
// Two modes:
//   - client (default): the kubelet's client-certificate bootstrap
//     (k8s.io/kubernetes/pkg/kubelet/certificate/bootstrap.LoadClientCert).
//   - --serving: the kubelet's serving-certificate manager
//     (k8s.io/kubernetes/pkg/kubelet/certificate.NewKubeletServerCertificateManager) with the
//     node addresses of --node-addresses, until it holds a certificate; it prints that
//     certificate's SANs and serial as one line of JSON.
//
// --version prints "kubelet-bootstrap v<version> (client, serving)": the modes in the
// parentheses let the assets script tell a binary without serving mode from a current one.
package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/component-base/version"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/certificate"
	"k8s.io/kubernetes/pkg/kubelet/certificate/bootstrap"
)

// modes is what --version lists after the version; the assets script checks for "serving".
const modes = "(client, serving)"

func main() {
	kubeconfig := flag.String("kubeconfig", "", "client mode: path of the kubeconfig to write (and to skip bootstrap when it is valid); --serving: the node's own kubeconfig, used to request the serving certificate")
	bootstrapKubeconfig := flag.String("bootstrap-kubeconfig", "", "client mode: path of the bootstrap kubeconfig (not used with --serving)")
	certDir := flag.String("cert-dir", "", "folder for kubelet-client-*.pem (client mode) or kubelet-server-*.pem (--serving)")
	nodeName := flag.String("node-name", "", "node name (the certificate's CN is system:node:<name>)")
	timeout := flag.Duration("timeout", 5*time.Minute, "how long to wait for the certificate")
	serving := flag.Bool("serving", false, "run the kubelet's serving certificate manager instead of the client bootstrap, print the issued certificate's SANs and serial as one line of JSON")
	nodeAddresses := flag.String("node-addresses", "", "with --serving: the node's addresses handed to the manager, a comma list of Type=Address (Type: Hostname, InternalIP, ExternalIP, InternalDNS, ExternalDNS); each address is kept exactly as given")
	showVersion := flag.Bool("version", false, "print the Kubernetes version and the supported modes, and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println("kubelet-bootstrap " + version.Get().GitVersion + " " + modes)
		return
	}
	if *serving {
		os.Exit(runServing(*kubeconfig, *bootstrapKubeconfig, *certDir, *nodeName, *nodeAddresses, *timeout))
	}
	if *nodeAddresses != "" {
		fmt.Fprintln(os.Stderr, "kubelet-bootstrap: --node-addresses is only used with --serving")
		os.Exit(2)
	}
	if *kubeconfig == "" || *bootstrapKubeconfig == "" || *certDir == "" || *nodeName == "" {
		fmt.Fprintln(os.Stderr, "kubelet-bootstrap: --kubeconfig, --bootstrap-kubeconfig, --cert-dir and --node-name are required")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := bootstrap.LoadClientCert(ctx, *kubeconfig, *bootstrapKubeconfig, *certDir, types.NodeName(*nodeName)); err != nil {
		fmt.Fprintf(os.Stderr, "kubelet-bootstrap: %v\n", err)
		os.Exit(1)
	}
}

// servingResult is the one line of JSON that --serving prints.
type servingResult struct {
	DNSNames    []string `json:"dnsNames"`
	IPAddresses []string `json:"ipAddresses"`
	Serial      string   `json:"serial"`
}

// runServing runs the kubelet's serving certificate manager until it holds a certificate
// or timeout passes, and returns the exit code.
func runServing(kubeconfigPath, bootstrapKubeconfig, certDir, nodeName, addressList string, timeout time.Duration) int {
	fail := func(code int, format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "kubelet-bootstrap: "+format+"\n", args...)
		return code
	}
	if kubeconfigPath == "" || certDir == "" || nodeName == "" || addressList == "" {
		return fail(2, "--serving needs --kubeconfig (the node's own), --cert-dir, --node-name and --node-addresses")
	}
	if bootstrapKubeconfig != "" {
		return fail(2, "--bootstrap-kubeconfig is not used with --serving: --kubeconfig must be the node's bootstrapped kubeconfig")
	}
	addresses, err := parseNodeAddresses(addressList)
	if err != nil {
		return fail(2, "--node-addresses: %v", err)
	}
	restConfig, err := clientcmd.BuildConfigFromFlags("", kubeconfigPath)
	if err != nil {
		return fail(1, "loading --kubeconfig %s: %v", kubeconfigPath, err)
	}
	client, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return fail(1, "building a client from %s: %v", kubeconfigPath, err)
	}
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return fail(1, "creating --cert-dir: %v", err)
	}

	// The kubelet hands its manager a function that reads the Node's current addresses;
	// here they are fixed. Empty TLS file fields mean: keep the pair in certDir.
	getAddresses := func() []corev1.NodeAddress { return addresses }
	m, err := certificate.NewKubeletServerCertificateManager(client, &kubeletconfig.KubeletConfiguration{},
		types.NodeName(nodeName), getAddresses, certDir)
	if err != nil {
		return fail(1, "%v", err)
	}
	m.Start()
	defer m.Stop()

	deadline := time.Now().Add(timeout)
	for {
		if current := m.Current(); current != nil && len(current.Certificate) > 0 {
			leaf := current.Leaf
			if leaf == nil {
				if leaf, err = x509.ParseCertificate(current.Certificate[0]); err != nil {
					return fail(1, "parsing the serving certificate: %v", err)
				}
			}
			res := servingResult{DNSNames: append([]string{}, leaf.DNSNames...), IPAddresses: []string{}, Serial: fmt.Sprintf("%X", leaf.SerialNumber)} // as internal/serial prints it; this program is built outside the module
			for _, ip := range leaf.IPAddresses {
				res.IPAddresses = append(res.IPAddresses, ip.String())
			}
			out, err := json.Marshal(res)
			if err != nil {
				return fail(1, "encoding the result: %v", err)
			}
			fmt.Println(string(out))
			return 0
		}
		if time.Now().After(deadline) {
			return fail(1, "no serving certificate for node %q within %s; %s", nodeName, timeout, latestServingCSR(client, nodeName))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// parseNodeAddresses reads "Type=Address,Type=Address,...". The address after the first
// "=" is kept byte for byte (no trimming, no IP normalising): what matters is what the
// kubelet makes of it.
func parseNodeAddresses(list string) ([]corev1.NodeAddress, error) {
	valid := map[corev1.NodeAddressType]bool{
		corev1.NodeHostName: true, corev1.NodeInternalIP: true, corev1.NodeExternalIP: true,
		corev1.NodeInternalDNS: true, corev1.NodeExternalDNS: true,
	}
	var out []corev1.NodeAddress
	for _, entry := range strings.Split(list, ",") {
		typ, addr, ok := strings.Cut(entry, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not Type=Address", entry)
		}
		if !valid[corev1.NodeAddressType(typ)] {
			return nil, fmt.Errorf("%q: type %q is none of Hostname, InternalIP, ExternalIP, InternalDNS, ExternalDNS", entry, typ)
		}
		out = append(out, corev1.NodeAddress{Type: corev1.NodeAddressType(typ), Address: addr})
	}
	return out, nil
}

// latestServingCSR describes the node's newest kubelet-serving CSR, so that a timeout says
// whether the request was denied (and why), failed or is still pending. Nodes may list CSRs.
func latestServingCSR(client kubernetes.Interface, nodeName string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	list, err := client.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("spec.signerName", certificatesv1.KubeletServingSignerName).String(),
	})
	if err != nil {
		return fmt.Sprintf("listing its CSRs failed: %v", err)
	}
	var latest *certificatesv1.CertificateSigningRequest
	for i := range list.Items {
		c := &list.Items[i]
		if c.Spec.Username != "system:node:"+nodeName {
			continue
		}
		if latest == nil || latest.CreationTimestamp.Before(&c.CreationTimestamp) {
			latest = c
		}
	}
	if latest == nil {
		return "it created no " + certificatesv1.KubeletServingSignerName + " CSR (does its template have an IP address?)"
	}
	var conds []string
	for _, c := range latest.Status.Conditions {
		conds = append(conds, fmt.Sprintf("%s (reason %q, message %q)", c.Type, c.Reason, c.Message))
	}
	if len(conds) == 0 {
		return fmt.Sprintf("its latest CSR %s is pending: no approver decided it", latest.Name)
	}
	state := strings.Join(conds, ", ")
	if len(latest.Status.Certificate) == 0 {
		state += ", no certificate issued"
	}
	return fmt.Sprintf("its latest CSR %s: %s", latest.Name, state)
}
