package tokenctl_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/tlsbootstrap/tlsbootstrap/internal/tokenctl"
)

func TestHelp(t *testing.T) {
	for _, flag := range []string{"--help", "-h"} {
		out, err := run(t, flag)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range tokenctl.CommandNames() {
			if !strings.Contains(out, "  "+name+" ") {
				t.Errorf("%s does not list %q:\n%s", flag, name, out)
			}
		}
		if !strings.Contains(out, "--kubeconfig") {
			t.Errorf("%s does not mention --kubeconfig", flag)
		}
	}
}

func TestCommandHelp(t *testing.T) {
	cluster := []string{"--kubeconfig", "--request-timeout"}
	flags := map[string][]string{
		"create":               append([]string{"--ttl", "--usages", "--groups", "--description"}, cluster...),
		"list":                 append([]string{"--show-secrets"}, cluster...),
		"delete":               cluster,
		"generate":             nil,
		"static":               {"--user", "--uid", "--groups", "--check"},
		"rbac apply":           append([]string{"--preset", "--group", "--node"}, cluster...),
		"rbac revoke":          append([]string{"--preset", "--group", "--node"}, cluster...),
		"bootstrap-kubeconfig": {"--server", "--ca-file", "--token", "--out"},
		"ca-hash":              {"--ca-file", "--server", "--token"},
		"cluster-info publish": append([]string{"--server", "--ca-file", "--check"}, cluster...),
		"csr list":             cluster,
		"csr describe":         cluster,
		"csr approve":          append([]string{"--reason", "--message"}, cluster...),
		"csr deny":             append([]string{"--reason", "--message"}, cluster...),
		"csr explain":          append([]string{"--signer", "--serving-approval"}, cluster...),
		"status":               append([]string{"--expiring-within"}, cluster...),
	}
	if len(flags) != len(tokenctl.CommandNames()) {
		t.Errorf("this test knows %d commands, tokenctl has %v", len(flags), tokenctl.CommandNames())
	}
	for _, name := range tokenctl.CommandNames() {
		t.Run(name, func(t *testing.T) {
			out, err := run(t, append(strings.Fields(name), "--help")...)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, "Usage:\n  tokenctl "+name) {
				t.Errorf("help lacks the usage line:\n%s", out)
			}
			for _, f := range flags[name] {
				if !strings.Contains(out, f+" ") && !strings.Contains(out, f+"[") {
					t.Errorf("help lacks %s:\n%s", f, out)
				}
			}
		})
	}
	out, err := run(t, "csr", "--help")
	if err != nil || !strings.Contains(out, "csr approve NAME...") {
		t.Errorf("csr --help: %v\n%s", err, out)
	}
	out, err = run(t, "cluster-info", "--help")
	if err != nil || !strings.Contains(out, "cluster-info publish ") {
		t.Errorf("cluster-info --help: %v\n%s", err, out)
	}
}

// TestClusterInfoPublishHelp: the help says what is written, what is checked, and how
// nodes join afterwards.
func TestClusterInfoPublishHelp(t *testing.T) {
	out, err := run(t, "cluster-info", "publish", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ConfigMap kube-public/cluster-info", "Role and RoleBinding", "system:anonymous",
		"--anonymous-auth=false", "bootstrapsigner", "node-agent --server URL --discovery-token",
		"default: the kubeconfig's cluster server", "certificate-authority-data",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("cluster-info publish --help lacks %q:\n%s", want, out)
		}
	}
}

func TestCommandLineErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "missing command"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"; run 'tokenctl --help' for the list`},
		{"unknown global flag", []string{"--colour", "list"}, "unknown flag: --colour"},
		{"unknown command flag", []string{"generate", "--length=3"}, "generate: unknown flag: --length"},
		{"argument to generate", []string{"generate", "x"}, "generate: wrong arguments"},
		{"malformed timeout", []string{"list", "--request-timeout=later"}, `invalid argument "later" for "--request-timeout"`},
		{"missing kubeconfig", []string{"list", "--kubeconfig=/nonexistent/kubeconfig"}, "/nonexistent/kubeconfig"},
		{"empty kubeconfig", []string{"list", "--kubeconfig=" + os.DevNull}, "kubeconfig " + os.DevNull + " is empty or has no current context"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := run(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if out != "" {
				t.Errorf("a failed command printed %q", out)
			}
		})
	}
}

// TestClusterErrors: failures that come from the server, or from its absence, say which.
func TestClusterErrors(t *testing.T) {
	bootstrap := newToken(t)
	asBootstrap := tokenKubeconfig(t, cp.Host(), bootstrap.Reveal())
	unknownToken := tokenKubeconfig(t, cp.Host(), "zzzzzz.0123456789abcdef")
	nobody := tokenKubeconfig(t, "https://127.0.0.1:1", bootstrap.Reveal())
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"unreachable server", []string{"list", nobody}, []string{"no API server reachable at https://127.0.0.1:1", "connection refused"}},
		{"unreachable server for csr", []string{"csr", "approve", "x", nobody}, []string{"no API server reachable at https://127.0.0.1:1"}},
		{"unknown token", []string{"list", unknownToken}, []string{"the API server at " + cp.Host() + " rejected the kubeconfig's credentials (401 Unauthorized)"}},
		{"forbidden list", []string{"list", asBootstrap}, []string{"forbidden: ", `User "system:bootstrap:` + bootstrap.ID + `" cannot list resource "secrets"`}},
		{"forbidden create", []string{"create", asBootstrap}, []string{"forbidden: ", `cannot create resource "secrets"`}},
		{"forbidden delete", []string{"delete", bootstrap.ID, asBootstrap}, []string{"forbidden: ", `cannot delete resource "secrets"`}},
		{"forbidden rbac", []string{"rbac", "apply", "--preset=seed", asBootstrap}, []string{"forbidden: ", `resource "clusterroles"`}},
		{"forbidden approve", []string{"csr", "approve", "some-csr", asBootstrap}, []string{"forbidden: ", `resource "certificatesigningrequests"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := tokenctl.Main(context.Background(), tc.args, &stdout, &stderr)
			if code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			line := stderr.String()
			if strings.Count(line, "\n") != 1 || !strings.HasPrefix(line, "tokenctl: ") {
				t.Errorf("stderr %q, want one line starting with tokenctl:", line)
			}
			for _, w := range tc.want {
				if !strings.Contains(line, w) {
					t.Errorf("stderr %q lacks %q", line, w)
				}
			}
			if strings.Contains(line, bootstrap.Secret) {
				t.Errorf("stderr shows the token secret: %q", line)
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
		})
	}
}

// TestKubeconfigEnvironment: without --kubeconfig, $KUBECONFIG is used; the flag wins
// over it, before or after the command name.
func TestKubeconfigEnvironment(t *testing.T) {
	tok := newToken(t)
	t.Setenv("KUBECONFIG", cp.KubeconfigFile)
	if out := mustRun(t, "list"); !strings.Contains(out, tok.String()) {
		t.Errorf("list with $KUBECONFIG does not show %s:\n%s", tok, out)
	}
	t.Setenv("KUBECONFIG", strings.TrimPrefix(tokenKubeconfig(t, "https://127.0.0.1:1", "abcdef.0123456789abcdef"), "--kubeconfig="))
	for _, args := range [][]string{{"list", admin()}, {admin(), "list"}} {
		if out := mustRun(t, args...); !strings.Contains(out, tok.String()) {
			t.Errorf("tokenctl %v does not show %s:\n%s", args, tok, out)
		}
	}
	if _, err := run(t, "list"); err == nil || !strings.Contains(err.Error(), "https://127.0.0.1:1") {
		t.Errorf("list with $KUBECONFIG at a dead server: %v", err)
	}
}
