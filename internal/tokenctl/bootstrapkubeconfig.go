package tokenctl

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	certutil "k8s.io/client-go/util/cert"

	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// BootstrapKubeconfigOptions describe a node's bootstrap kubeconfig.
type BootstrapKubeconfigOptions struct {
	// Server is the API server URL, e.g. https://10.0.0.1:6443. Required.
	Server string
	// CAFile is a PEM file of the CA(s) that verify the server; its content is embedded.
	// Required.
	CAFile string
	// Token is a bootstrap token (<id>.<secret>) or a static token. Required.
	Token string
	// Out is the file to write (mode 0600, atomically). Required.
	Out string
}

// WriteBootstrapKubeconfig writes the bootstrap kubeconfig opts describe with
// kubeconfig.Bootstrap and kubeconfig.Write, and prints where it went (never the token).
func WriteBootstrapKubeconfig(out io.Writer, opts BootstrapKubeconfigOptions) error {
	for _, required := range []struct{ flag, value string }{
		{"--server", opts.Server}, {"--ca-file", opts.CAFile}, {"--token", opts.Token}, {"--out", opts.Out},
	} {
		if required.value == "" {
			return fmt.Errorf("bootstrap-kubeconfig: %s is required", required.flag)
		}
	}
	if err := checkBearerToken(opts.Token); err != nil {
		return fmt.Errorf("bootstrap-kubeconfig: --token: %w", err)
	}
	caPEM, err := os.ReadFile(opts.CAFile)
	if err != nil {
		return fmt.Errorf("bootstrap-kubeconfig: reading --ca-file: %w", err)
	}
	if _, err := certutil.ParseCertsPEM(caPEM); err != nil {
		return fmt.Errorf("bootstrap-kubeconfig: --ca-file %s: %w", opts.CAFile, err)
	}
	cfg, err := kubeconfig.BootstrapConfig(kubeconfig.BootstrapOptions{Server: opts.Server, CAData: caPEM, Token: token.NewSecret(opts.Token)})
	if err != nil {
		return err
	}
	if err := kubeconfig.Write(opts.Out, cfg); err != nil {
		return fmt.Errorf("bootstrap-kubeconfig: %w", err)
	}
	_, err = fmt.Fprintf(out, "wrote bootstrap kubeconfig %s (server %s, user %s)\n", opts.Out, opts.Server, cfg.Contexts[cfg.CurrentContext].AuthInfo)
	return err
}

// checkBearerToken accepts a well-formed bootstrap token, or anything else usable as a
// static bearer token; a value that looks like a bootstrap token but is not one is
// refused, since it would only fail later at the server.
func checkBearerToken(value string) error {
	if strings.Contains(value, ".") {
		_, err := token.Parse(value)
		return err
	}
	if strings.ContainsAny(value, " \t\r\n,\"") {
		return errors.New("a static token cannot hold spaces, commas or quotes")
	}
	return nil
}
