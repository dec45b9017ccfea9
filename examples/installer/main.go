// Command installer is an installer's whole TLS story with tlsbootstrap, in one program:
//
//   - init: a bootstrap token, the kubeadm RBAC preset, kube-public/cluster-info, and the
//     approver, signer and bootstrap signer in this process, signing with a CA held in memory;
//   - join: --nodes nodes join by token discovery with the CA pin (node.Start with a
//     node.Discovery), each keeping its client certificate renewed;
//   - renew now: each node renews once, and a table shows nodes, serials and NotAfter.
//
// It runs on an embedded test control plane (clustertest) by default, or on a real
// cluster with --kubeconfig (an admin) and --ca-cert/--ca-key (the CA the API server
// trusts for client certificates). Nothing secret is written: the token and the CA stay
// in memory, and each node writes only its own key, certificates and kubeconfig.
package main

import (
	"context"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	certutil "k8s.io/client-go/util/cert"

	"github.com/tlsbootstrap/tlsbootstrap/clustertest"
	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/discovery"
	"github.com/tlsbootstrap/tlsbootstrap/internal/serial"
	"github.com/tlsbootstrap/tlsbootstrap/node"
	"github.com/tlsbootstrap/tlsbootstrap/rbac"
	"github.com/tlsbootstrap/tlsbootstrap/rotate"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

type flags struct {
	nodes           int
	kubeconfig, dir string
	caCert, caKey   string
	timeout         time.Duration
	verbose         bool
}

func main() {
	var f flags
	// A flag set of its own: envtest's packages register a global --kubeconfig.
	fs := flag.NewFlagSet("installer", flag.ExitOnError)
	fs.IntVar(&f.nodes, "nodes", 3, "nodes to join")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "admin kubeconfig of a real cluster (default: an embedded test control plane)")
	fs.StringVar(&f.caCert, "ca-cert", "", "with --kubeconfig: the CA certificate the API server trusts for client certificates")
	fs.StringVar(&f.caKey, "ca-key", "", "with --kubeconfig: that CA's key")
	fs.StringVar(&f.dir, "dir", "", "folder for the nodes' files (default: a new temporary folder)")
	fs.DurationVar(&f.timeout, "timeout", 3*time.Minute, "bound on the whole run")
	fs.BoolVar(&f.verbose, "verbose", false, "show the SDK's logs (silenced by default through the context's logger)")
	_ = fs.Parse(os.Args[1:])
	ctx := context.Background()
	if !f.verbose {
		ctx = logr.NewContext(ctx, logr.Discard())
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	if _, _, err := run(ctx, f, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "installer: %v\n", err)
		os.Exit(1)
	}
}

// cluster is what the installer holds: an admin, the API server and its CA, the signing CA.
type cluster struct {
	admin     *rest.Config
	server    string
	servingCA []byte
	signing   *sign.CA
	stop      func() error
}

// run installs and joins, printing to out; it returns the secrets it held, for the tests'
// scan of what it wrote.
func run(ctx context.Context, f flags, out io.Writer) (tok token.Token, ca *sign.CA, err error) {
	c, err := connect(f)
	if err != nil {
		return tok, nil, err
	}
	ca = c.signing
	defer func() { _ = c.stop() }()
	client, err := kubernetes.NewForConfig(c.admin)
	if err != nil {
		return tok, ca, err
	}

	// init: token, RBAC, cluster-info, and the controllers with the CA in memory.
	tok, err = token.Generate()
	if err != nil {
		return tok, ca, err
	}
	spec := token.DefaultSpec(tok)
	spec.TTL = time.Hour
	if _, err := token.Create(ctx, client, spec); err != nil {
		return tok, ca, err
	}
	if err := rbac.Apply(ctx, client, rbac.KubeadmPreset(token.KubeadmDefaultGroup)); err != nil {
		return tok, ca, err
	}
	if err := discovery.PublishClusterInfo(ctx, client, c.server, c.servingCA); err != nil {
		return tok, ca, err
	}
	ctrlCtx, stopControllers := context.WithCancel(ctx)
	defer stopControllers()
	go func() {
		_ = controller.Run(ctrlCtx, client, controller.Options{ClusterSigningCA: c.signing,
			Controllers: []string{controller.CSRApproving, controller.CSRSigning, controller.BootstrapSigner}})
	}()
	fmt.Fprintf(out, "init: token %s, cluster-info for %s, controllers running\n", tok, c.server)

	// join: every node by discovery with the CA pin, then renew now.
	cas, err := certutil.ParseCertsPEM(c.servingCA)
	if err != nil {
		return tok, ca, fmt.Errorf("the API server's CA: %w", err)
	}
	dir := f.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "installer-"); err != nil {
			return tok, ca, err
		}
	}
	found := discovery.Pin(cas[0])
	rows := make([][2]*x509.Certificate, f.nodes)
	g, gctx := errgroup.WithContext(ctx)
	for i := range f.nodes {
		name := fmt.Sprintf("node-%d", i+1)
		g.Go(func() error {
			agent, err := node.Start(gctx, node.RunOptions{
				Options:   node.Options{NodeName: name, Kubeconfig: filepath.Join(dir, name, "kubeconfig"), CertDir: filepath.Join(dir, name, "pki")},
				Discovery: &node.Discovery{Server: c.server, Token: tok, CACertHashes: []string{found}},
			})
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			joined := agent.Client().Current().Leaf
			renewed, err := agent.RenewNow(gctx, rotate.KindClient)
			if err != nil {
				return fmt.Errorf("%s: renewing: %w", name, err)
			}
			rows[i] = [2]*x509.Certificate{joined, renewed}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return tok, ca, err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "NODE\tJOINED SERIAL\tRENEWED SERIAL\tNOT AFTER")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r[1].Subject.CommonName, serial.Hex(r[0].SerialNumber), serial.Hex(r[1].SerialNumber), r[1].NotAfter.UTC().Format(time.RFC3339))
	}
	if err := tw.Flush(); err != nil {
		return tok, ca, err
	}
	fmt.Fprintf(out, "\nnodes' files in %s\n", dir)
	return tok, ca, nil
}

// connect starts the embedded test control plane, or reads --kubeconfig and the CA.
func connect(f flags) (*cluster, error) {
	if f.kubeconfig == "" {
		tc, err := clustertest.Start(clustertest.Options{})
		if err != nil {
			return nil, err
		}
		return &cluster{admin: tc.Config, server: tc.Server, servingCA: tc.ServingCA, signing: tc.SigningCA, stop: tc.Stop}, nil
	}
	admin, err := clientcmd.BuildConfigFromFlags("", f.kubeconfig)
	if err != nil {
		return nil, err
	}
	servingCA := admin.CAData
	if len(servingCA) == 0 && admin.CAFile != "" {
		if servingCA, err = os.ReadFile(admin.CAFile); err != nil {
			return nil, err
		}
	}
	ca, err := sign.LoadCA(f.caCert, f.caKey)
	if err != nil {
		return nil, fmt.Errorf("--ca-cert/--ca-key: %w", err)
	}
	return &cluster{admin: admin, server: admin.Host, servingCA: servingCA, signing: ca, stop: func() error { return nil }}, nil
}
