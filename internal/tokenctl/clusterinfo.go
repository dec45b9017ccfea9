package tokenctl

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	certutil "k8s.io/client-go/util/cert"

	"github.com/tlsbootstrap/tlsbootstrap/discovery"
)

// DefaultClusterInfoSettle is how long CheckClusterInfo retries a refusal (403) or a
// missing ConfigMap (404) before reporting it: the API server's RBAC authorizer and caches
// see objects just written a moment later.
const DefaultClusterInfoSettle = 5 * time.Second

// ClusterInfoOptions configure PublishClusterInfo.
type ClusterInfoOptions struct {
	// Server is the API server URL joining nodes use, written into cluster-info. Required.
	Server string
	// CAPEM is the CA bundle (PEM) that verifies Server's serving certificate. Required.
	CAPEM []byte
	// CASource says where CAPEM came from (a file, the kubeconfig), for messages.
	CASource string
	// SkipCheck skips reading cluster-info back anonymously, for a Server this machine
	// cannot reach although the nodes can.
	SkipCheck bool
	// Settle bounds the retries of the check; see DefaultClusterInfoSettle (the default).
	Settle time.Duration
	// Timeout bounds each request of the check. Default DefaultRequestTimeout.
	Timeout time.Duration
}

// PublishClusterInfo writes kube-public/cluster-info (a kubeconfig with opts.Server and
// opts.CAPEM, no credentials) and the Role and RoleBinding that let system:anonymous get
// it, with discovery.PublishClusterInfo, as kubeadm's phases/bootstraptoken/clusterinfo
// does; then, unless opts.SkipCheck, reads it back as a joining node would (CheckClusterInfo)
// and fails saying what to fix when it cannot. It prints one line per object, the CA pins,
// the token signatures found, and a join hint.
func PublishClusterInfo(ctx context.Context, client kubernetes.Interface, out io.Writer, opts ClusterInfoOptions) error {
	certs, err := certutil.ParseCertsPEM(opts.CAPEM)
	if err != nil {
		return fmt.Errorf("cluster-info publish: CA bundle from %s: %w", orUnknown(opts.CASource), err)
	}
	want, err := discovery.ClusterInfoKubeconfig(opts.Server, opts.CAPEM)
	if err != nil {
		return fmt.Errorf("cluster-info publish: %w", err)
	}
	before, err := client.CoreV1().ConfigMaps(discovery.Namespace).Get(ctx, discovery.ConfigMapName, metav1.GetOptions{})
	existed := err == nil
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("cluster-info publish: getting ConfigMap %s/%s: %w", discovery.Namespace, discovery.ConfigMapName, err)
	}
	if err := discovery.PublishClusterInfo(ctx, client, opts.Server, opts.CAPEM); err != nil {
		return err
	}
	state := "created"
	switch {
	case !existed:
	case before.Data[discovery.KubeconfigKey] == string(want):
		state = "unchanged"
	default:
		state = "updated (the bootstrap signer re-signs it for each token)"
	}
	fmt.Fprintf(out, "configmap/%s -n %s %s: server %s, CA bundle from %s\n", discovery.ConfigMapName, discovery.Namespace, state, opts.Server, orUnknown(opts.CASource))
	fmt.Fprintf(out, "role.rbac.authorization.k8s.io/%s -n %s applied: get configmap %s\n", discovery.ReaderRoleName, discovery.Namespace, discovery.ConfigMapName)
	fmt.Fprintf(out, "rolebinding.rbac.authorization.k8s.io/%s -n %s applied: for User %s\n", discovery.ReaderRoleName, discovery.Namespace, "system:anonymous")
	var pins []string
	for _, c := range certs {
		pins = append(pins, discovery.Pin(c))
		fmt.Fprintf(out, "CA %q: --discovery-token-ca-cert-hash %s\n", c.Subject.CommonName, pins[len(pins)-1])
	}
	if warning := loopbackWarning(opts.Server); warning != "" {
		fmt.Fprintf(out, "warning: %s\n", warning)
	}
	if opts.SkipCheck {
		fmt.Fprintln(out, "not checked that anonymous clients can read it (--check=false)")
	} else {
		cm, err := CheckClusterInfo(ctx, opts)
		if err != nil {
			return err
		}
		if cm.Data[discovery.KubeconfigKey] != string(want) {
			return &clusterInfoError{msg: fmt.Sprintf("cluster-info check: the API server at %s serves a cluster-info other than the one just written through the kubeconfig's server: --server names another cluster, or something rewrites %s/%s", opts.Server, discovery.Namespace, discovery.ConfigMapName)}
		}
		fmt.Fprintf(out, "checked: an anonymous client trusting that CA reads cluster-info at %s\n", opts.Server)
		printSignatures(out, cm, state != "unchanged")
	}
	hint := fmt.Sprintf("join a node with:\n  node-agent --server=%s --discovery-token=<id.secret>", opts.Server)
	for _, p := range pins {
		hint += " --discovery-token-ca-cert-hash=" + p
	}
	_, err = fmt.Fprintln(out, hint+" --kubeconfig=/var/lib/kubelet/kubeconfig")
	return err
}

// printSignatures names the tokens whose signatures cluster-info holds, or says what a
// join waits for when it holds none; changed says the kubeconfig was just written, so
// that the signatures present are stale until the signer renews them.
func printSignatures(out io.Writer, cm *corev1.ConfigMap, changed bool) {
	var ids []string
	for key := range cm.Data {
		if id, ok := strings.CutPrefix(key, discovery.SignatureKeyPrefix); ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	switch {
	case len(ids) == 0:
		fmt.Fprintln(out, "no token has signed it yet: a node joining by token discovery waits for the bootstrap signer (kube-controller-manager's bootstrapsigner controller, or csr-controller --controllers=...,bootstrapsigner) to add the signature of its token, which needs the usage signing")
	case changed:
		fmt.Fprintf(out, "the signatures of tokens %s predate this content: the bootstrap signer replaces them\n", strings.Join(ids, ", "))
	default:
		fmt.Fprintf(out, "signed for tokens %s\n", strings.Join(ids, ", "))
	}
}

// loopbackWarning warns about a server URL that only this machine can reach.
func loopbackWarning(server string) string {
	u, err := url.Parse(server)
	if err != nil {
		return ""
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || strings.EqualFold(host, "localhost") {
		return fmt.Sprintf("the server %s is a loopback address: nodes on other machines cannot reach it; pass --server with an address they can", server)
	}
	return ""
}

// CheckClusterInfo gets kube-public/cluster-info from opts.Server as a joining node does:
// with no credentials (as system:anonymous), trusting only opts.CAPEM. A refusal or a
// missing ConfigMap is retried for opts.Settle. The error says what blocks the read and
// what to fix: anonymous authentication off (401), RBAC (403), a CA that does not verify
// the server, a server name its certificate lacks, or a server not reachable from here.
func CheckClusterInfo(ctx context.Context, opts ClusterInfoOptions) (*corev1.ConfigMap, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	settle := opts.Settle
	if settle <= 0 {
		settle = DefaultClusterInfoSettle
	}
	client, err := kubernetes.NewForConfig(&rest.Config{
		Host:            opts.Server,
		TLSClientConfig: rest.TLSClientConfig{CAData: opts.CAPEM},
		Timeout:         timeout,
		UserAgent:       Program,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster-info check: anonymous client for %s: %w", opts.Server, err)
	}
	deadline := time.Now().Add(settle)
	for {
		cm, err := client.CoreV1().ConfigMaps(discovery.Namespace).Get(ctx, discovery.ConfigMapName, metav1.GetOptions{})
		if err == nil {
			return cm, nil
		}
		retry := apierrors.IsForbidden(err) || apierrors.IsNotFound(err)
		if !retry || time.Now().After(deadline) {
			return nil, anonymousReadError(err, opts)
		}
		select {
		case <-ctx.Done():
			return nil, anonymousReadError(err, opts)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// clusterInfoError is a failed anonymous read of cluster-info. It is not the kubeconfig's
// credentials that failed, so explain leaves it as it is.
type clusterInfoError struct {
	msg string
	err error
}

func (e *clusterInfoError) Error() string {
	if e.err == nil {
		return e.msg
	}
	return e.msg + ": " + e.err.Error()
}

func (e *clusterInfoError) Unwrap() error { return e.err }

// anonymousReadError explains why an anonymous get of cluster-info failed.
func anonymousReadError(err error, opts ClusterInfoOptions) error {
	ref := discovery.Namespace + "/" + discovery.ConfigMapName
	path := "/api/v1/namespaces/" + discovery.Namespace + "/configmaps/" + discovery.ConfigMapName
	prefix := fmt.Sprintf("cluster-info check: an anonymous client cannot get %s from %s", ref, opts.Server)
	var (
		unknownCA *x509.UnknownAuthorityError
		verify    *tls.CertificateVerificationError
		hostname  x509.HostnameError
	)
	var msg string
	switch {
	case apierrors.IsUnauthorized(err):
		msg = prefix + ", so nodes cannot join by token discovery: the API server rejects anonymous requests (401). " +
			"Run kube-apiserver without --anonymous-auth=false, or, with --authentication-config, set anonymous.enabled: true " +
			"and, if it has conditions, add the path " + path + "; or give nodes a bootstrap kubeconfig instead (tokenctl bootstrap-kubeconfig)"
	case apierrors.IsForbidden(err):
		msg = fmt.Sprintf("%s: %s is forbidden to get it (403): check that Role and RoleBinding %s/%s exist, with the binding's subject User %s "+
			"(tokenctl cluster-info publish recreates them), and that kube-apiserver's --authorization-mode (or --authorization-config) includes RBAC "+
			"and no authorizer before it denies the request",
			prefix, "system:anonymous", discovery.Namespace, discovery.ReaderRoleName, "system:anonymous")
	case apierrors.IsNotFound(err):
		msg = fmt.Sprintf("%s: it does not exist there (404): the server at --server is another cluster than the kubeconfig's, or something deleted it", prefix)
	case errors.As(err, &hostname):
		msg = fmt.Sprintf("%s: the API server's certificate is not valid for %q: pass a --server whose host is among its names (%s)",
			prefix, hostname.Host, certNames(hostname.Certificate))
	case errors.As(err, &unknownCA), errors.As(err, &verify):
		msg = fmt.Sprintf("%s: the CA bundle from %s does not verify the API server's certificate, so joining nodes would refuse it: "+
			"pass --ca-file with the CA that signed kube-apiserver's serving certificate (--tls-cert-file)", prefix, orUnknown(opts.CASource))
	case isTransportError(err):
		msg = fmt.Sprintf("%s: no API server reachable there from this machine: check --server, or pass --check=false if only the nodes can reach it", prefix)
	default:
		msg = prefix
	}
	return &clusterInfoError{msg: msg, err: err}
}

// certNames lists a certificate's DNS and IP SANs.
func certNames(c *x509.Certificate) string {
	if c == nil {
		return "unknown"
	}
	names := append([]string{}, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func orUnknown(s string) string {
	if s == "" {
		return "(unnamed source)"
	}
	return s
}

// clusterInfoSource resolves the server and CA bundle of `cluster-info publish`: the
// flags when given, otherwise the kubeconfig's cluster (its server, and its
// certificate-authority-data or certificate-authority file).
func clusterInfoSource(cfg *rest.Config, server, caFile string) (string, []byte, string, error) {
	if server == "" {
		server = cfg.Host
	}
	if caFile != "" {
		data, err := os.ReadFile(caFile)
		if err != nil {
			return "", nil, "", fmt.Errorf("cluster-info publish: reading --ca-file: %w", err)
		}
		return server, data, "--ca-file " + caFile, nil
	}
	switch {
	case len(cfg.CAData) > 0:
		return server, cfg.CAData, "the kubeconfig's certificate-authority-data", nil
	case cfg.CAFile != "":
		data, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return "", nil, "", fmt.Errorf("cluster-info publish: reading the kubeconfig's certificate-authority: %w", err)
		}
		return server, data, "the kubeconfig's certificate-authority " + cfg.CAFile, nil
	}
	return "", nil, "", errors.New("cluster-info publish: the kubeconfig's cluster has no certificate-authority-data or certificate-authority (it trusts the system roots or skips verification): pass --ca-file with the CA that verifies the API server")
}

const clusterInfoPublishHelp = `Writes the ConfigMap kube-public/cluster-info, holding a kubeconfig with the API server URL
and the CA bundle that verifies it (no credentials), and the Role and RoleBinding
kube-public/kubeadm:bootstrap-signer-clusterinfo that let system:anonymous get that one
ConfigMap, as kubeadm init does. Running it again repairs them; a changed server or CA
updates the ConfigMap.

Then it reads cluster-info back as a joining node does, with no credentials and trusting
only that CA, and fails naming what to fix when it cannot: kube-apiserver rejecting
anonymous requests (--anonymous-auth=false, or --authentication-config's anonymous
section), RBAC refusing system:anonymous (the Role or RoleBinding, --authorization-mode),
a CA that does not verify the server, or a server unreachable from here (--check=false
skips the check when only the nodes can reach --server).

Nodes then join with a bootstrap token by token discovery, once the bootstrap signer has
signed cluster-info for that token (kube-controller-manager's bootstrapsigner controller,
or csr-controller --controllers=csrapproving,csrsigning,bootstrapsigner):
  node-agent --server URL --discovery-token <id.secret> --discovery-token-ca-cert-hash sha256:<hex>`

func bindClusterInfoPublish(fs *pflag.FlagSet) action {
	var (
		server, caFile string
		check          bool
	)
	fs.StringVar(&server, "server", "", "API server URL that joining nodes use, written into cluster-info (default: the kubeconfig's cluster server)")
	fs.StringVar(&caFile, "ca-file", "", "PEM file of the CA bundle that verifies --server (default: the kubeconfig's certificate-authority-data or certificate-authority)")
	fs.BoolVar(&check, "check", true, "read cluster-info back with an anonymous client trusting only that CA, and fail saying what to fix when it cannot")
	return func(ctx context.Context, inv *invocation) error {
		server, caPEM, source, err := clusterInfoSource(inv.config, server, caFile)
		if err != nil {
			return err
		}
		return PublishClusterInfo(ctx, inv.client, inv.out, ClusterInfoOptions{
			Server: server, CAPEM: caPEM, CASource: source, SkipCheck: !check, Timeout: inv.config.Timeout,
		})
	}
}
