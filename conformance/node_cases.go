package conformance

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/token"

	certificatesv1 "k8s.io/api/certificates/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
)

// The placeholders of Options.NodeCommand.
const (
	placeholderBootstrapKubeconfig = "{bootstrap-kubeconfig}"
	placeholderKubeconfig          = "{kubeconfig}"
	placeholderCertDir             = "{cert-dir}"
	placeholderNodeName            = "{node-name}"
)

func nodeCases() []testCase {
	return []testCase{
		{
			Name: "kubeconfig-authenticates-as-node", Profile: ProfileNode, Core: true,
			Description: "after the node command, the kubeconfig it wrote authenticates as system:node:<name> in system:nodes",
			Run: func(ctx context.Context, t *caseT) {
				n := t.bootstrapNode(ctx)
				n.run(ctx, t)
				expectNodeIdentity(ctx, t, n)
			},
		},
		{
			Name: "key-files-private", Profile: ProfileNode, Core: true,
			Description: "every file the node command wrote that holds a private key has mode 0600 (no group or other bits)",
			Run: func(ctx context.Context, t *caseT) {
				n := t.bootstrapNode(ctx)
				n.run(ctx, t)
				keys := 0
				for _, root := range []string{n.certDir, n.kubeconfig} {
					err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
						if err != nil || d.IsDir() || d.Type()&fs.ModeSymlink != 0 {
							return err
						}
						data, err := os.ReadFile(path)
						if err != nil || !bytes.Contains(data, []byte("PRIVATE KEY")) && !bytes.Contains(data, []byte("client-key-data")) {
							return err
						}
						keys++
						info, err := d.Info()
						if err != nil {
							return err
						}
						if perm := info.Mode().Perm(); perm&0o077 != 0 {
							t.Errorf("expected %s (holds a private key) to have mode 0600; it has %04o", path, perm)
						}
						return nil
					})
					if err != nil {
						t.Fatalf("reading what the node command wrote under %s: %v", root, err)
					}
				}
				if keys == 0 {
					t.Errorf("expected a private key in %s or %s; found none", n.certDir, n.kubeconfig)
				}
			},
		},
		{
			Name: "second-run-no-new-csr", Profile: ProfileNode, Core: true,
			Description: "running the node command again while its certificate is valid creates no new CSR and keeps the identity",
			Run: func(ctx context.Context, t *caseT) {
				n := t.bootstrapNode(ctx)
				n.run(ctx, t)
				before, err := t.csrsFor(ctx, n.name)
				if err != nil {
					t.Fatalf("%v", err)
				}
				n.run(ctx, t)
				after, err := t.csrsFor(ctx, n.name)
				if err != nil {
					t.Fatalf("%v", err)
				}
				if len(after) != len(before) {
					t.Errorf("expected no new CSR for system:node:%s on a second run; before %v, after %v", n.name, before, after)
				}
				expectNodeIdentity(ctx, t, n)
			},
		},
		rotationCase(),
	}
}

// testNode is one node bootstrap the suite runs: a fresh token with its own group bound
// to create CSRs and have them approved through nodeclient, and fresh paths.
type testNode struct {
	name, bootstrapKubeconfig, kubeconfig, certDir string
	argv                                           []string
}

func (t *caseT) bootstrapNode(ctx context.Context) *testNode {
	if len(t.Options.NodeCommand) == 0 {
		t.Skipf("no node command configured (Options.NodeCommand / --node-command)")
	}
	return t.prepareNode(ctx, t.Options.NodeCommand)
}

// prepareNode makes the token, grants and paths of one node and expands command, a
// template with the node placeholders, into its argv.
func (t *caseT) prepareNode(ctx context.Context, command []string) *testNode {
	group := "system:bootstrappers:" + t.uniqueName("group")
	tok := t.createToken(ctx, tokenOptions{authentication: true, expires: time.Now().Add(30 * time.Minute), groups: []string{group}})
	who := &csrIdentity{User: tok.user(), Groups: []string{"system:bootstrappers", group}}
	t.grantTo(ctx, rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: group}, who, grantCreateCSR, grantNodeClient)
	t.waitAuthenticates(ctx, tok)

	dir, err := os.MkdirTemp("", "tlsbootstrap-conformance-node-")
	if err != nil {
		t.Fatalf("creating a folder for the node: %v", err)
	}
	t.cleanup(func(context.Context) error { return os.RemoveAll(dir) })
	n := &testNode{
		name:                t.uniqueName("node"),
		bootstrapKubeconfig: filepath.Join(dir, "bootstrap.kubeconfig"),
		kubeconfig:          filepath.Join(dir, "kubelet.kubeconfig"),
		certDir:             filepath.Join(dir, "pki"),
	}
	caData, err := servingCA(t)
	if err != nil {
		t.Fatalf("reading the API server's CA from the admin config: %v", err)
	}
	cfg, err := kubeconfig.BootstrapConfig(kubeconfig.BootstrapOptions{Server: t.RESTConfig.Host, CAData: caData, Token: token.NewSecret(tok.value())})
	if err != nil {
		t.Fatalf("building the bootstrap kubeconfig: %v", err)
	}
	if err := kubeconfig.Write(n.bootstrapKubeconfig, cfg); err != nil {
		t.Fatalf("writing the bootstrap kubeconfig: %v", err)
	}
	r := strings.NewReplacer(
		placeholderBootstrapKubeconfig, n.bootstrapKubeconfig, placeholderKubeconfig, n.kubeconfig,
		placeholderCertDir, n.certDir, placeholderNodeName, n.name)
	for _, arg := range command {
		n.argv = append(n.argv, r.Replace(arg))
	}
	// What the command made on the cluster (its CSRs; a Node, were it a kubelet) goes too.
	t.cleanup(func(ctx context.Context) error {
		names, err := t.csrsFor(ctx, n.name)
		if err != nil {
			return err
		}
		for _, name := range names {
			if err := t.Client.CertificatesV1().CertificateSigningRequests().Delete(ctx, name, metav1.DeleteOptions{}); ignoreNotFound(err) != nil {
				return err
			}
		}
		return ignoreNotFound(t.Client.CoreV1().Nodes().Delete(ctx, n.name, metav1.DeleteOptions{}))
	})
	return n
}

// run runs the node command to completion within the case's time.
func (n *testNode) run(ctx context.Context, t *caseT) {
	cmd := exec.CommandContext(ctx, n.argv[0], n.argv[1:]...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("expected the node command %q to exit 0; it failed (%v) with output:\n%s", strings.Join(n.argv, " "), err, tail(out, 2000))
	}
}

func expectNodeIdentity(ctx context.Context, t *caseT, n *testNode) {
	rc, err := clientcmd.BuildConfigFromFlags("", n.kubeconfig)
	if err != nil {
		t.Fatalf("expected the node command to write a usable kubeconfig at %s; loading it: %v", n.kubeconfig, err)
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatalf("building a client from %s: %v", n.kubeconfig, err)
	}
	user, groups, err := whoAmI(ctx, client)
	if err != nil {
		t.Fatalf("expected %s to authenticate; the API server answered: %v", n.kubeconfig, err)
	}
	if user != nodeUser(n.name) || !slices.Contains(groups, "system:nodes") {
		t.Errorf("expected the kubeconfig to authenticate as %s in system:nodes; it is %s %v", nodeUser(n.name), user, groups)
	}
}

// csrsFor lists the names of the CSRs whose request's CN is system:node:<name>.
func (t *caseT) csrsFor(ctx context.Context, nodeName string) ([]string, error) {
	csrs, err := t.nodeCSRs(ctx, nodeName)
	var names []string
	for _, obj := range csrs {
		names = append(names, obj.Name)
	}
	return names, err
}

// nodeCSRs lists the CSRs whose request's CN is system:node:<name>.
func (t *caseT) nodeCSRs(ctx context.Context, nodeName string) ([]certificatesv1.CertificateSigningRequest, error) {
	list, err := t.Client.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing CSRs: %w", err)
	}
	var out []certificatesv1.CertificateSigningRequest
	for _, obj := range list.Items {
		block, _ := pem.Decode(obj.Spec.Request)
		if block == nil {
			continue
		}
		req, err := x509.ParseCertificateRequest(block.Bytes)
		if err == nil && req.Subject.CommonName == nodeUser(nodeName) {
			out = append(out, obj)
		}
	}
	return out, nil
}

// servingCA is the PEM CA that verifies the API server, from the admin config.
func servingCA(t *caseT) ([]byte, error) {
	if len(t.RESTConfig.CAData) > 0 {
		return t.RESTConfig.CAData, nil
	}
	if t.RESTConfig.CAFile != "" {
		return os.ReadFile(t.RESTConfig.CAFile)
	}
	return nil, fmt.Errorf("the admin config has no certificate authority (insecure configs are not supported)")
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
