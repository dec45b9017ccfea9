// Package tokenctl holds the commands of examples/tokenctl, an admin CLI in the spirit of
// `kubeadm token` and the seed documents: bootstrap tokens (create, list, delete,
// generate), static token file lines and checks, the bootstrap RBAC presets, bootstrap
// kubeconfigs, `cluster-info publish` (kube-public/cluster-info and its anonymous reader
// RBAC for token discovery, with discovery.PublishClusterInfo, then an anonymous read
// back that says what blocks it), and `kubectl get csr` / `kubectl describe csr` /
// `kubectl certificate approve|deny`, plus `csr explain` (why a CSR is pending and what
// to fix, from internal/diagnose) and `status` (nodes' client certificates and their
// expiry).
//
// Each command is a plain function over a kubernetes.Interface and an io.Writer
// (CreateToken, ListTokens, ApplyRBAC, ListCSRs, ...), so it can be called and tested
// without a process; Main parses the command line, loads the kubeconfig with the usual
// clientcmd rules (--kubeconfig, then $KUBECONFIG, then ~/.kube/config) and turns every
// failure into one line on stderr naming what went wrong.
package tokenctl
