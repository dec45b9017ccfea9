package main_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/internal/tokenctl"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// bin is the tokenctl program built once for the package.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tokenctl-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if bin, err = testenv.Build(dir, "github.com/tlsbootstrap/tlsbootstrap/examples/tokenctl"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// tokenctlProcess runs the program with only the environment given (no inherited
// KUBECONFIG or in-cluster variables) and returns stdout, stderr and the exit code.
func tokenctlProcess(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return stdout.String(), stderr.String(), 0
	case errors.As(err, &exit):
		return stdout.String(), stderr.String(), exit.ExitCode()
	}
	t.Fatal(err)
	return "", "", 0
}

func TestHelpListsEveryCommand(t *testing.T) {
	stdout, stderr, code := tokenctlProcess(t, nil, "--help")
	if code != 0 || stderr != "" {
		t.Fatalf("--help exited %d, stderr %q", code, stderr)
	}
	for _, name := range tokenctl.CommandNames() {
		if !strings.Contains(stdout, "  "+name+" ") {
			t.Errorf("--help does not list %q:\n%s", name, stdout)
		}
		if _, stderr, code := tokenctlProcess(t, nil, append(strings.Fields(name), "--help")...); code != 0 || stderr != "" {
			t.Errorf("%s --help exited %d, stderr %q", name, code, stderr)
		}
	}
}

// homeWith makes a home folder whose ~/.kube/config points at server.
func homeWith(t *testing.T, server string) string {
	t.Helper()
	home := t.TempDir()
	cfg, err := kubeconfig.BootstrapConfig(kubeconfig.BootstrapOptions{Server: server, Token: token.NewSecret("abcdef.0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(home, ".kube"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := kubeconfig.Write(filepath.Join(home, ".kube", "config"), cfg); err != nil {
		t.Fatal(err)
	}
	return home
}

func TestFailuresAreOneLine(t *testing.T) {
	dead := "https://127.0.0.1:1"
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"unknown command", nil, []string{"frobnicate"}, `tokenctl: unknown command "frobnicate"`},
		{"unknown usage", []string{"HOME=" + homeWith(t, dead)}, []string{"create", "--usages=flying"}, `unknown usage "flying"`},
		{"malformed ttl", nil, []string{"create", "--ttl=soon"}, `invalid argument "soon" for "--ttl" flag`},
		{"no kubeconfig anywhere", nil, []string{"list"}, "no kubeconfig found"},
		{"~/.kube/config is the last fallback", []string{"HOME=" + homeWith(t, dead)}, []string{"list"}, "no API server reachable at " + dead},
		{"$KUBECONFIG before ~/.kube/config", []string{"HOME=" + homeWith(t, "https://127.0.0.2:1"), "KUBECONFIG=" + filepath.Join(homeWith(t, dead), ".kube", "config")}, []string{"csr", "list"}, "no API server reachable at " + dead},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := tokenctlProcess(t, tc.env, tc.args...)
			if code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "tokenctl: ") || !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q, want one line starting with tokenctl: and containing %q", stderr, tc.want)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
		})
	}
}

func TestGenerateNeedsNoCluster(t *testing.T) {
	stdout, stderr, code := tokenctlProcess(t, nil, "generate")
	if code != 0 || stderr != "" {
		t.Fatalf("generate exited %d: %q", code, stderr)
	}
	if _, err := token.Parse(strings.TrimSuffix(stdout, "\n")); err != nil {
		t.Errorf("generate printed %q: %v", stdout, err)
	}
}
