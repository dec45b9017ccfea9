package examples_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	netutils "k8s.io/utils/net"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/serial"
	"github.com/tlsbootstrap/tlsbootstrap/rbac"
	"github.com/tlsbootstrap/tlsbootstrap/rotate"
)

// servingShape is one way a Node can list its addresses, with the SANs the kubelet's
// serving certificate manager asks for from them (upstream addressesToHostnamesAndIPs): a
// Hostname that parses as an IP (sloppily, leading zeros allowed) is an IP SAN, otherwise a
// DNS SAN; Internal/ExternalIP are IP SANs when they parse; Internal/ExternalDNS are DNS
// SANs. wantIPs are canonical (net.IP.String()).
type servingShape struct {
	name      string
	node      string
	addresses []corev1.NodeAddress
	wantDNS   []string
	wantIPs   []string
}

func addr(typ corev1.NodeAddressType, address string) corev1.NodeAddress {
	return corev1.NodeAddress{Type: typ, Address: address}
}

// Documentation addresses only (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
// 2001:db8::/32) and names under example.com or the node's own; no two shapes share one.
var servingShapes = []servingShape{
	{
		name: "hostname and IPv4", node: "serving-hostname-ipv4",
		addresses: []corev1.NodeAddress{addr(corev1.NodeHostName, "serving-hostname-ipv4"), addr(corev1.NodeInternalIP, "192.0.2.10")},
		wantDNS:   []string{"serving-hostname-ipv4"}, wantIPs: []string{"192.0.2.10"},
	},
	{
		name: "IPv6 only", node: "serving-ipv6-only",
		addresses: []corev1.NodeAddress{addr(corev1.NodeInternalIP, "2001:db8::20"), addr(corev1.NodeExternalIP, "2001:db8:ffff::20")},
		wantIPs:   []string{"2001:db8::20", "2001:db8:ffff::20"},
	},
	{
		name: "dual-stack", node: "serving-dual-stack",
		addresses: []corev1.NodeAddress{addr(corev1.NodeInternalIP, "192.0.2.40"), addr(corev1.NodeInternalIP, "2001:db8::40"), addr(corev1.NodeHostName, "serving-dual-stack")},
		wantDNS:   []string{"serving-dual-stack"}, wantIPs: []string{"192.0.2.40", "2001:db8::40"},
	},
	{
		name: "internal and external DNS and IP", node: "serving-dns-ip-mix",
		addresses: []corev1.NodeAddress{
			addr(corev1.NodeInternalDNS, "serving-dns-ip-mix.internal.example.com"), addr(corev1.NodeExternalDNS, "serving-dns-ip-mix.example.com"),
			addr(corev1.NodeInternalIP, "192.0.2.50"), addr(corev1.NodeExternalIP, "203.0.113.50"),
		},
		wantDNS: []string{"serving-dns-ip-mix.example.com", "serving-dns-ip-mix.internal.example.com"},
		wantIPs: []string{"192.0.2.50", "203.0.113.50"},
	},
	{
		name: "IP as Hostname alone", node: "serving-ip-hostname",
		addresses: []corev1.NodeAddress{addr(corev1.NodeHostName, "192.0.2.60")},
		wantIPs:   []string{"192.0.2.60"},
	},
	{
		name: "IP as Hostname and the same InternalIP", node: "serving-ip-hostname-internalip",
		addresses: []corev1.NodeAddress{addr(corev1.NodeHostName, "192.0.2.70"), addr(corev1.NodeInternalIP, "192.0.2.70")},
		wantIPs:   []string{"192.0.2.70"},
	},
	{
		name: "leading-zero IPv4", node: "serving-leading-zero",
		addresses: []corev1.NodeAddress{addr(corev1.NodeHostName, "serving-leading-zero"), addr(corev1.NodeInternalIP, "192.000.002.030")},
		wantDNS:   []string{"serving-leading-zero"}, wantIPs: []string{"192.0.2.30"},
	},
	{
		name: "non-canonical IPv6", node: "serving-ipv6-noncanonical",
		addresses: []corev1.NodeAddress{addr(corev1.NodeHostName, "serving-ipv6-noncanonical"), addr(corev1.NodeInternalIP, "2001:DB8:0:0::1a")},
		wantDNS:   []string{"serving-ipv6-noncanonical"}, wantIPs: []string{"2001:db8::1a"},
	},
	{
		name: "two InternalIPs", node: "serving-two-internalips",
		addresses: []corev1.NodeAddress{addr(corev1.NodeHostName, "serving-two-internalips"), addr(corev1.NodeInternalIP, "198.51.100.10"), addr(corev1.NodeInternalIP, "198.51.100.11")},
		wantDNS:   []string{"serving-two-internalips"}, wantIPs: []string{"198.51.100.10", "198.51.100.11"},
	},
}

// servingResult is the line kubelet-bootstrap --serving prints.
type servingResult struct {
	DNSNames    []string `json:"dnsNames"`
	IPAddresses []string `json:"ipAddresses"`
	Serial      string   `json:"serial"`
}

// TestKubeletServingCertificateShapes: the real kubelet's serving certificate manager
// (kubelet-bootstrap --serving, built by hack/assets.sh) requests a kubelet-serving
// certificate for each shape of Node addresses; the csr-controller's serving approver must
// approve it against the Node and the signer issue it with exactly the SANs the kubelet
// derives from the addresses.
func TestKubeletServingCertificateShapes(t *testing.T) {
	bin, err := controlplane.BinaryPath("kubelet-bootstrap")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "--version").CombinedOutput(); err != nil || !strings.Contains(string(out), "serving") {
		t.Fatalf("%s has no serving mode (--version: %q, %v); run hack/assets.sh to rebuild it", bin, strings.TrimSpace(string(out)), err)
	}
	checkShapesDisjoint(t, servingShapes)

	ctx := context.Background()
	admin := cp.Client()
	// Nodes (group system:nodes) may create certificatesigningrequests/selfnodeserver: the
	// seed preset's role and its group-wide binding node-server-auto-renew-crt.
	servingRenewal := rbac.ServingRenewalPreset()
	if err := rbac.Apply(ctx, admin, servingRenewal); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Only the group-wide binding: the role may be bound by other tests' per-node bindings.
		_ = rbac.Revoke(context.Background(), admin, rbac.Preset{Name: servingRenewal.Name, ClusterRoleBindings: servingRenewal.ClusterRoleBindings})
	})
	startCSRController(t, "--controllers=csrapproving,csrsigning,csrcleaner,servingapproving")

	for _, shape := range servingShapes {
		t.Run(shape.name, func(t *testing.T) {
			kubeconfigPath := runNode(t, bin, shape.node)
			registerNode(t, shape.node, shape.addresses)

			certDir := filepath.Join(t.TempDir(), "pki")
			args := []string{"--serving", "--kubeconfig=" + kubeconfigPath, "--cert-dir=" + certDir,
				"--node-name=" + shape.node, "--node-addresses=" + addressFlag(shape.addresses), "--timeout=1m"}
			runCtx, cancel := context.WithTimeout(ctx, 90*time.Second)
			defer cancel()
			var stdout, stderr bytes.Buffer
			cmd := exec.CommandContext(runCtx, bin, args...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				logServingCSRs(t, shape.node)
				t.Fatalf("kubelet-bootstrap %s: %v\nlast stderr line: %s\nstderr:\n%s", strings.Join(args, " "), err, lastLine(stderr.String()), stderr.String())
			}
			var got servingResult
			if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &got); err != nil {
				t.Fatalf("kubelet-bootstrap printed %q, not one line of JSON: %v", stdout.String(), err)
			}
			t.Logf("addresses %s: certificate %s", addressFlag(shape.addresses), bytes.TrimSpace(stdout.Bytes()))

			gotIPs := make([]string, 0, len(got.IPAddresses))
			for _, ip := range got.IPAddresses {
				parsed := netutils.ParseIPSloppy(ip)
				if parsed == nil {
					t.Fatalf("certificate IP SAN %q does not parse", ip)
				}
				gotIPs = append(gotIPs, parsed.String())
			}
			if diff := cmp.Diff(asSet(shape.wantDNS), asSet(got.DNSNames)); diff != "" {
				t.Errorf("DNS SANs for addresses %s (-want +got):\n%s", addressFlag(shape.addresses), diff)
			}
			if diff := cmp.Diff(asSet(shape.wantIPs), asSet(gotIPs)); diff != "" {
				t.Errorf("IP SANs for addresses %s (-want +got):\n%s", addressFlag(shape.addresses), diff)
			}
			checkServingPair(t, certDir, got.Serial)
			if t.Failed() {
				logServingCSRs(t, shape.node)
			}
		})
	}
}

// registerNode creates the Node (as admin) and sets its status.addresses to exactly
// addresses; the Node is deleted when the test ends.
func registerNode(t *testing.T, name string, addresses []corev1.NodeAddress) {
	t.Helper()
	ctx := context.Background()
	nodes := cp.Client().CoreV1().Nodes()
	n, err := nodes.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name: name, Labels: map[string]string{corev1.LabelHostname: name},
	}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nodes.Delete(context.Background(), name, metav1.DeleteOptions{}) })
	n.Status.Addresses = slices.Clone(addresses)
	n, err = nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(n.Status.Addresses, addresses) {
		t.Fatalf("Node %s has addresses %v after UpdateStatus, want exactly %v", name, n.Status.Addresses, addresses)
	}
}

// addressFlag renders addresses for kubelet-bootstrap --node-addresses.
func addressFlag(addresses []corev1.NodeAddress) string {
	parts := make([]string, len(addresses))
	for i, a := range addresses {
		parts[i] = string(a.Type) + "=" + a.Address
	}
	return strings.Join(parts, ",")
}

// checkServingPair checks the pair the manager stored: kubelet-server-current.pem holds
// the certificate kubelet-bootstrap reported, signed by the cluster CA, with the node's
// subject.
func checkServingPair(t *testing.T, certDir, want string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(certDir, "kubelet-server-current.pem"))
	if err != nil {
		t.Errorf("no stored serving pair: %v", err)
		return
	}
	pair, err := rotate.ParsePair(data)
	if err != nil {
		t.Errorf("stored serving pair: %v", err)
		return
	}
	if got := serial.Hex(pair.Leaf.SerialNumber); got != want {
		t.Errorf("stored certificate has serial %s, kubelet-bootstrap reported %s", got, want)
	}
	if err := pair.Leaf.CheckSignatureFrom(cp.CA.Cert); err != nil {
		t.Errorf("serving certificate not signed by the cluster CA: %v", err)
	}
}

// logServingCSRs logs the status conditions of the node's kubelet-serving CSRs, so that a
// denial's reason and message show in the test output.
func logServingCSRs(t *testing.T, nodeName string) {
	t.Helper()
	list, err := cp.Client().CertificatesV1().CertificateSigningRequests().List(context.Background(), metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("spec.signerName", certificatesv1.KubeletServingSignerName).String(),
	})
	if err != nil {
		t.Logf("listing kubelet-serving CSRs: %v", err)
		return
	}
	found := false
	for _, c := range list.Items {
		if c.Spec.Username != "system:node:"+nodeName {
			continue
		}
		found = true
		if len(c.Status.Conditions) == 0 {
			t.Logf("CSR %s of system:node:%s: no conditions (pending)", c.Name, nodeName)
		}
		for _, cond := range c.Status.Conditions {
			t.Logf("CSR %s of system:node:%s: %s reason=%q message=%q", c.Name, nodeName, cond.Type, cond.Reason, cond.Message)
		}
	}
	if !found {
		t.Logf("no %s CSR made by system:node:%s", certificatesv1.KubeletServingSignerName, nodeName)
	}
}

// checkShapesDisjoint guards the table: node names are unique and no address (IPs
// compared canonically, names case-insensitively) belongs to two shapes.
func checkShapesDisjoint(t *testing.T, shapes []servingShape) {
	t.Helper()
	owner := map[string]string{}
	for _, s := range shapes {
		seen := map[string]bool{"node:" + s.node: true}
		for _, a := range s.addresses {
			key := "name:" + strings.ToLower(a.Address)
			if ip := netutils.ParseIPSloppy(a.Address); ip != nil {
				key = "ip:" + ip.String()
			}
			seen[key] = true
		}
		for key := range seen {
			if other, ok := owner[key]; ok {
				t.Fatalf("shapes %q and %q share %s", other, s.name, key)
			}
			owner[key] = s.name
		}
	}
}

// asSet sorts and de-duplicates; nil and empty are the same set.
func asSet(values []string) []string {
	out := slices.Clone(values)
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		return nil
	}
	return out
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
