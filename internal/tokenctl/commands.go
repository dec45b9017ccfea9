package tokenctl

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// commands is the command table, in the order help lists it.
var commands = []*command{
	{name: "create", args: "[token]", maxArgs: 1, cluster: true, bind: bindCreate,
		summary: "Create a bootstrap token (a new random one unless given) and print it"},
	{name: "list", maxArgs: 0, cluster: true, bind: bindList,
		summary: "List bootstrap tokens (secrets redacted unless --show-secrets)"},
	{name: "delete", args: "<id|token>...", minArgs: 1, maxArgs: -1, cluster: true, bind: bindDelete,
		summary: "Delete bootstrap tokens by id or whole token"},
	{name: "generate", maxArgs: 0, bind: bindGenerate,
		summary: "Print a new random bootstrap token without touching the cluster"},
	{name: "static", maxArgs: 0, bind: bindStatic,
		summary: "Print a --token-auth-file line with a new 128-bit token, or --check a token file"},
	{name: "rbac apply", maxArgs: 0, cluster: true, bind: bindRBAC(ApplyRBAC),
		summary: "Create or repair the RBAC objects of a preset (kubeadm or seed)"},
	{name: "rbac revoke", maxArgs: 0, cluster: true, bind: bindRBAC(RevokeRBAC),
		summary: "Delete the RBAC objects of a preset"},
	{name: "bootstrap-kubeconfig", maxArgs: 0, bind: bindBootstrapKubeconfig,
		summary: "Write a node's bootstrap kubeconfig (server, embedded CA, token), mode 0600"},
	{name: "ca-hash", maxArgs: 0, bind: bindCAHash,
		summary: "Print the sha256 pin of a CA file (--discovery-token-ca-cert-hash), and a join hint with --server and --token"},
	{name: "cluster-info publish", maxArgs: 0, cluster: true, bind: bindClusterInfoPublish,
		summary: "Publish kube-public/cluster-info (server and CA) for token discovery, let anonymous users read it, and check that they can",
		long:    clusterInfoPublishHelp},
	{name: "csr list", maxArgs: 0, cluster: true, bind: bindCSRList,
		summary: "List certificate signing requests like 'kubectl get csr'"},
	{name: "csr describe", args: "NAME", minArgs: 1, maxArgs: 1, cluster: true, bind: bindCSRDescribe,
		summary: "Show a certificate signing request like 'kubectl describe csr': requester, signer, subject, SANs, usages"},
	{name: "csr approve", args: "NAME...", minArgs: 1, maxArgs: -1, cluster: true, bind: bindDecision(ApproveCSRs),
		summary: "Approve certificate signing requests like 'kubectl certificate approve'"},
	{name: "csr deny", args: "NAME...", minArgs: 1, maxArgs: -1, cluster: true, bind: bindDecision(DenyCSRs),
		summary: "Deny certificate signing requests like 'kubectl certificate deny'"},
	{name: "csr explain", args: "NAME", minArgs: 1, maxArgs: 1, cluster: true, bind: bindCSRExplain,
		summary: "Explain why a certificate signing request is pending, or what it was issued, and what to fix"},
	{name: "status", maxArgs: 0, cluster: true, bind: bindStatus,
		summary: "List nodes' client certificates from issued CSRs with their expiry"},
}

func bindCreate(fs *pflag.FlagSet) action {
	var opts CreateOptions
	fs.DurationVar(&opts.TTL, "ttl", token.KubeadmDefaultTTL, "lifetime of the token; 0 means it never expires")
	fs.StringSliceVar(&opts.Usages, "usages", []string{token.UsageSigning, token.UsageAuthentication}, "usages of the token: "+token.UsageSigning+", "+token.UsageAuthentication)
	fs.StringSliceVar(&opts.Groups, "groups", []string{token.KubeadmDefaultGroup}, "extra groups the token authenticates with, each system:bootstrappers:...")
	fs.StringVar(&opts.Description, "description", "", "a human-friendly description of the token")
	return func(ctx context.Context, inv *invocation) error {
		if opts.TTL < 0 {
			return errors.New("create: --ttl must not be negative")
		}
		if len(inv.args) == 1 {
			opts.Token = inv.args[0]
		}
		return CreateToken(ctx, inv.client, inv.out, opts)
	}
}

func bindList(fs *pflag.FlagSet) action {
	var opts ListOptions
	fs.BoolVar(&opts.ShowSecrets, "show-secrets", false, "print whole tokens instead of <id>.****************")
	return func(ctx context.Context, inv *invocation) error {
		return ListTokens(ctx, inv.client, inv.out, opts)
	}
}

func bindDelete(*pflag.FlagSet) action {
	return func(ctx context.Context, inv *invocation) error {
		return DeleteTokens(ctx, inv.client, inv.out, inv.args)
	}
}

func bindGenerate(*pflag.FlagSet) action {
	return func(_ context.Context, inv *invocation) error { return GenerateToken(inv.out) }
}

func bindStatic(fs *pflag.FlagSet) action {
	var (
		opts  StaticOptions
		check string
	)
	fs.StringVar(&opts.User, "user", "", "user name of the line, e.g. kubelet-bootstrap")
	fs.StringVar(&opts.UID, "uid", "", "uid of the line, e.g. 10001")
	fs.StringSliceVar(&opts.Groups, "groups", nil, "groups of the line, e.g. system:kubelet-bootstrap")
	fs.StringVar(&check, "check", "", "validate this token file and print its warnings instead of making a line")
	return func(_ context.Context, inv *invocation) error {
		if check != "" {
			if opts.User != "" || opts.UID != "" || len(opts.Groups) > 0 {
				return errors.New("static: --check does not go with --user, --uid or --groups")
			}
			return CheckTokenFile(inv.out, check)
		}
		return StaticLine(inv.out, opts)
	}
}

func bindRBAC(do func(context.Context, kubernetes.Interface, io.Writer, RBACOptions) error) func(*pflag.FlagSet) action {
	return func(fs *pflag.FlagSet) action {
		var opts RBACOptions
		fs.StringVar(&opts.Preset, "preset", "", "the preset: "+strings.Join(Presets, " or "))
		fs.StringVar(&opts.Group, "group", "", "the bootstrap group to bind (default: the preset's)")
		fs.StringSliceVar(&opts.Nodes, "node", nil, "seed preset only: bind renewals per node instead of for system:nodes (repeatable)")
		return func(ctx context.Context, inv *invocation) error {
			return do(ctx, inv.client, inv.out, opts)
		}
	}
}

func bindBootstrapKubeconfig(fs *pflag.FlagSet) action {
	var opts BootstrapKubeconfigOptions
	fs.StringVar(&opts.Server, "server", "", "API server URL, e.g. https://10.0.0.1:6443")
	fs.StringVar(&opts.CAFile, "ca-file", "", "PEM file of the CA that verifies the server (embedded in the kubeconfig)")
	fs.StringVar(&opts.Token, "token", "", "bootstrap token <id>.<secret> or static token")
	fs.StringVar(&opts.Out, "out", "", "file to write")
	return func(_ context.Context, inv *invocation) error {
		return WriteBootstrapKubeconfig(inv.out, opts)
	}
}

func bindCSRList(*pflag.FlagSet) action {
	return func(ctx context.Context, inv *invocation) error {
		return ListCSRs(ctx, inv.client, inv.out, time.Time{})
	}
}

func bindDecision(do func(context.Context, kubernetes.Interface, io.Writer, []string, DecisionOptions) error) func(*pflag.FlagSet) action {
	return func(fs *pflag.FlagSet) action {
		var opts DecisionOptions
		fs.StringVar(&opts.Reason, "reason", "", "the condition's reason (default ManuallyApproved / ManuallyDenied)")
		fs.StringVar(&opts.Message, "message", "", "the condition's message")
		return func(ctx context.Context, inv *invocation) error {
			return do(ctx, inv.client, inv.out, inv.args, opts)
		}
	}
}
