package tokenctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"
	"k8s.io/client-go/util/cert"

	"github.com/tlsbootstrap/tlsbootstrap/discovery"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// CAHashOptions configure CAHash.
type CAHashOptions struct {
	// CAFile is the cluster CA (PEM; every certificate in it is pinned).
	CAFile string
	// Server and Token, when both set, add a join command for examples/node-agent.
	Server, Token string
}

// CAHash prints the sha256:<hex> public-key pin of each CA certificate in the file, the
// value of --discovery-token-ca-cert-hash, and with a server and token a join hint.
func CAHash(out io.Writer, opts CAHashOptions) error {
	if opts.CAFile == "" {
		return errors.New("ca-hash: --ca-file is required")
	}
	if (opts.Server == "") != (opts.Token == "") {
		return errors.New("ca-hash: --server and --token go together")
	}
	data, err := os.ReadFile(opts.CAFile)
	if err != nil {
		return fmt.Errorf("ca-hash: %w", err)
	}
	certs, err := cert.ParseCertsPEM(data)
	if err != nil {
		return fmt.Errorf("ca-hash: %s: %w", opts.CAFile, err)
	}
	var pins []string
	for _, c := range certs {
		pins = append(pins, discovery.Pin(c))
		if _, err := fmt.Fprintln(out, pins[len(pins)-1]); err != nil {
			return err
		}
	}
	if opts.Server == "" {
		return nil
	}
	if _, err := token.Parse(opts.Token); err != nil {
		return fmt.Errorf("ca-hash: --token: %w", err)
	}
	hint := fmt.Sprintf("\njoin a node with:\n  node-agent --server=%s --discovery-token=%s", opts.Server, opts.Token)
	for _, p := range pins {
		hint += " --discovery-token-ca-cert-hash=" + p
	}
	hint += " --kubeconfig=/var/lib/kubelet/kubeconfig --cert-dir=/var/lib/kubelet/pki"
	_, err = fmt.Fprintln(out, hint)
	return err
}

func bindCAHash(fs *pflag.FlagSet) action {
	var opts CAHashOptions
	fs.StringVar(&opts.CAFile, "ca-file", "", "PEM file of the cluster CA")
	fs.StringVar(&opts.Server, "server", "", "API server URL, for the join hint (with --token)")
	fs.StringVar(&opts.Token, "token", "", "bootstrap token with the signing usage, for the join hint (with --server)")
	return func(_ context.Context, inv *invocation) error { return CAHash(inv.out, opts) }
}
