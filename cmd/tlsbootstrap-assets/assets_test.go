package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeGo stands in for the go command: it records each call, answers `go mod tidy` and
// `go mod download -json`, and "builds" a binary that answers --version as the real one
// would, after FAKE_GO_SLEEP seconds; building FAKE_GO_FAIL fails.
const fakeGo = `#!/usr/bin/env bash
echo "$*" >>"$FAKE_GO_LOG"
case "$1 $2" in
  "mod tidy") exit 0 ;;
  "mod download") printf '{\n\t"Path": "k8s.io/kubernetes",\n\t"GoMod": "%s"\n}\n' "$FAKE_GO_GOMOD"; exit 0 ;;
esac
[[ "$1" == build ]] || { echo "fake go: unexpected: $*" >&2; exit 1; }
shift
out="" pkg=""
while (($#)); do
  case "$1" in -o) out="$2"; shift 2 ;; -ldflags) shift 2 ;; *) pkg="$1"; shift ;; esac
done
sleep "${FAKE_GO_SLEEP:-0}"
case "$pkg" in
  go.etcd.io/*) name=etcd version="etcd Version: 3.6.5" ;;
  */kubelet-bootstrap) name=kubelet-bootstrap version="kubelet-bootstrap v1.37.2 (client, serving)" ;;
  *) name="${pkg##*/}" version="Kubernetes v1.37.2" ;;
esac
[[ "$name" != "${FAKE_GO_FAIL:-}" ]] || { echo "fake go: compile error in $pkg" >&2; exit 2; }
printf '#!/bin/sh\necho "%s"\n' "$version" >"$out"
chmod +x "$out"
`

// assetsEnv is a folder layout for one run of assets.sh with the fake go command.
type assetsEnv struct {
	t                *testing.T
	out, work, goLog string
	env              []string
}

func newAssetsEnv(t *testing.T) *assetsEnv {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "fakebin")
	gomod := filepath.Join(tmp, "kubernetes.mod")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "go"), []byte(fakeGo), 0o755); err != nil {
		t.Fatal(err)
	}
	staging := "module k8s.io/kubernetes\n\nreplace (\n\tk8s.io/api => ./staging/src/k8s.io/api\n\tk8s.io/apiserver => ./staging/src/k8s.io/apiserver\n)\n"
	if err := os.WriteFile(gomod, []byte(staging), 0o644); err != nil {
		t.Fatal(err)
	}
	e := &assetsEnv{t: t, out: filepath.Join(tmp, "out"), work: filepath.Join(tmp, "work"), goLog: filepath.Join(tmp, "go.log")}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KUBEBUILDER_ASSETS=") && !strings.HasPrefix(kv, "PATH=") && !strings.HasPrefix(kv, "ASSETS_") {
			e.env = append(e.env, kv)
		}
	}
	e.env = append(e.env, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"ASSETS_DIR="+e.out, "ASSETS_WORK="+e.work, "FAKE_GO_LOG="+e.goLog, "FAKE_GO_GOMOD="+gomod,
		"K8S_VERSION=1.37.2", "ETCD_VERSION=3.6.5")
	return e
}

type assetsRun struct {
	stdout, stderr string
	code           int
	took           time.Duration // until stdout and stderr closed
}

// run runs assets.sh with args, env added to the environment.
func (e *assetsEnv) run(env []string, args ...string) assetsRun {
	e.t.Helper()
	cmd := e.command(env, args...)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	return e.wait(cmd, &stdout, &stderr, start)
}

// command is assets.sh in a process group of its own, so that wait can tell whether it
// left a process behind.
func (e *assetsEnv) command(env []string, args ...string) *exec.Cmd {
	cmd := exec.Command("bash", append([]string{"assets.sh"}, args...)...)
	cmd.Env = append(slices.Clone(e.env), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 15 * time.Second // a process left holding stdout or stderr shows as a long took
	return cmd
}

// wait waits for cmd and fails the test when a process of its group outlives it.
func (e *assetsEnv) wait(cmd *exec.Cmd, stdout, stderr *syncBuffer, start time.Time) assetsRun {
	e.t.Helper()
	err := cmd.Wait()
	r := assetsRun{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		e.t.Errorf("running assets.sh: %v", err)
	}
	e.t.Logf("assets.sh: exit %d in %v\nstderr:\n%s", r.code, r.took.Round(time.Millisecond), r.stderr)
	for deadline := time.Now().Add(2 * time.Second); syscall.Kill(-cmd.Process.Pid, 0) == nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			e.t.Errorf("a process of assets.sh (the progress printer?) outlived it")
			break
		}
	}
	return r
}

// syncBuffer is a bytes.Buffer that a test may read while a command writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// builds returns the packages the fake go built since the last call.
func (e *assetsEnv) builds() []string {
	e.t.Helper()
	data, err := os.ReadFile(e.goLog)
	if err != nil && !os.IsNotExist(err) {
		e.t.Fatal(err)
	}
	_ = os.Remove(e.goLog)
	var pkgs []string
	for line := range strings.Lines(string(data)) {
		if f := strings.Fields(line); len(f) > 0 && f[0] == "build" {
			pkgs = append(pkgs, f[len(f)-1])
		}
	}
	return pkgs
}

func (e *assetsEnv) present(name string) bool {
	_, err := os.Stat(filepath.Join(e.out, name))
	return err == nil
}

// TestAssetsBuildsWhatIsAskedFor: `assets.sh etcd kube-apiserver` (make demo) builds those
// two only; `assets.sh` (make assets, make test) builds the rest; a third run builds
// nothing. Stdout is the folder alone.
func TestAssetsBuildsWhatIsAskedFor(t *testing.T) {
	e := newAssetsEnv(t)

	r := e.run(nil, "kube-apiserver", "etcd")
	if r.code != 0 || r.stdout != e.out+"\n" {
		t.Fatalf("assets.sh etcd kube-apiserver: exit %d, stdout %q; want 0 and the folder", r.code, r.stdout)
	}
	if got, want := e.builds(), []string{"go.etcd.io/etcd/server/v3", "k8s.io/kubernetes/cmd/kube-apiserver"}; !slices.Equal(got, want) {
		t.Errorf("assets.sh etcd kube-apiserver built %q, want %q", got, want)
	}
	tools, err := os.ReadFile(filepath.Join(e.work, "kubernetes-1.37.2", "tools.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(tools), `"k8s.io/kubernetes/cmd/kube-apiserver"`) || strings.Contains(string(tools), "controller-manager") {
		t.Errorf("tools.go for kube-apiserver alone:\n%s", tools)
	}
	for _, b := range []string{"kube-controller-manager", "kubelet-bootstrap"} {
		if e.present(b) {
			t.Errorf("%s was built, although not asked for", b)
		}
	}

	r = e.run(nil)
	if r.code != 0 || r.stdout != e.out+"\n" {
		t.Fatalf("assets.sh: exit %d, stdout %q; want 0 and the folder", r.code, r.stdout)
	}
	if got, want := e.builds(), []string{"k8s.io/kubernetes/cmd/kube-controller-manager", "./cmd/kubelet-bootstrap"}; !slices.Equal(got, want) {
		t.Errorf("assets.sh after etcd and kube-apiserver built %q, want %q", got, want)
	}
	if !strings.Contains(r.stderr, "present in "+e.out+": etcd kube-apiserver") {
		t.Errorf("assets.sh does not say that etcd and kube-apiserver are present")
	}

	r = e.run(nil)
	if got := e.builds(); r.code != 0 || len(got) > 0 {
		t.Errorf("assets.sh with all present: exit %d, built %q; want 0 and nothing", r.code, got)
	}
}

// TestAssetsArguments: unknown names fail with the usage; --print-dir builds nothing.
func TestAssetsArguments(t *testing.T) {
	e := newAssetsEnv(t)
	r := e.run(nil, "etcd", "kube-scheduler")
	if r.code == 0 || !strings.Contains(r.stderr, "unknown binary or option: kube-scheduler") || !strings.Contains(r.stderr, "usage:") {
		t.Errorf("assets.sh etcd kube-scheduler: exit %d; want a failure naming kube-scheduler, with the usage", r.code)
	}
	r = e.run(nil, "--print-dir")
	if r.code != 0 || r.stdout != e.out+"\n" || len(e.builds()) > 0 {
		t.Errorf("assets.sh --print-dir: exit %d, stdout %q; want 0, the folder, nothing built", r.code, r.stdout)
	}
}

// TestAssetsKubebuilderAssets: KUBEBUILDER_ASSETS must hold the binaries asked for, and no
// more; nothing is built.
func TestAssetsKubebuilderAssets(t *testing.T) {
	e := newAssetsEnv(t)
	if r := e.run(nil, "etcd", "kube-apiserver"); r.code != 0 {
		t.Fatal("building the fake binaries failed")
	}
	e.builds()
	kb := []string{"KUBEBUILDER_ASSETS=" + e.out}
	r := e.run(kb, "etcd", "kube-apiserver")
	if r.code != 0 || r.stdout != e.out+"\n" {
		t.Errorf("assets.sh etcd kube-apiserver with KUBEBUILDER_ASSETS holding them: exit %d, stdout %q", r.code, r.stdout)
	}
	r = e.run(kb)
	if r.code == 0 || !strings.Contains(r.stderr, "KUBEBUILDER_ASSETS="+e.out+" has no working kube-controller-manager") {
		t.Errorf("assets.sh with KUBEBUILDER_ASSETS lacking kube-controller-manager: exit %d; want a failure naming it", r.code)
	}
	if got := e.builds(); len(got) > 0 {
		t.Errorf("with KUBEBUILDER_ASSETS set, assets.sh built %q", got)
	}
}

var progressLine = regexp.MustCompile(`(?m)^\[assets\] building kube-apiserver v1\.37\.2 \(about 7 minutes on 2 cores the first time\) \(\d+s elapsed\)$`)

// TestAssetsProgress: a long step logs what it builds and for how long every
// ASSETS_PROGRESS_INTERVAL seconds; a failed build keeps its exit status and leaves no
// progress printer behind (stderr closes at once, not at the printer's next tick).
func TestAssetsProgress(t *testing.T) {
	e := newAssetsEnv(t)
	r := e.run([]string{"ASSETS_PROGRESS_INTERVAL=1", "FAKE_GO_SLEEP=3"}, "kube-apiserver")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	if n := len(progressLine.FindAllString(r.stderr, -1)); n < 2 {
		t.Errorf("%d progress lines for a 3 s build at a 1 s interval, want 2 or more", n)
	}
	if !regexp.MustCompile(`(?m)^\[assets\] building kube-apiserver v1\.37\.2 \(about 7 minutes on 2 cores the first time\): done in \d+s$`).MatchString(r.stderr) {
		t.Errorf("no line saying the build is done and how long it took")
	}

	e = newAssetsEnv(t)
	// A printer left behind would hold stderr until its next tick, 120 s away: far longer
	// than the run, even when resolving modules on a loaded machine takes half a minute.
	r = e.run([]string{"ASSETS_PROGRESS_INTERVAL=120", "FAKE_GO_SLEEP=1", "FAKE_GO_FAIL=kube-apiserver"}, "etcd", "kube-apiserver")
	if r.code == 0 || !strings.Contains(r.stderr, "fake go: compile error") || !strings.Contains(r.stderr, "[assets] error: building kube-apiserver failed") {
		t.Errorf("a failed compile: exit %d; want non-zero, the compiler's output and the error", r.code)
	}
	if !regexp.MustCompile(`failed after \d+s \(exit status 2\)`).MatchString(r.stderr) {
		t.Errorf("the step's line does not keep the compiler's exit status 2")
	}
	if r.took > 90*time.Second {
		t.Errorf("assets.sh took %v: something (the progress printer?) held stderr open after it failed", r.took)
	}
}

// TestAssetsInterrupted: Ctrl-C (SIGINT to the process group, as a terminal sends it) during
// a build ends the script with status 130 and its progress printer with it.
func TestAssetsInterrupted(t *testing.T) {
	// A test started in the background (by a script, CI) may inherit SIGINT ignored, and
	// would pass it on so; handling it here makes it the default again in the children.
	interrupts := make(chan os.Signal, 1)
	signal.Notify(interrupts, os.Interrupt)
	defer signal.Stop(interrupts)
	e := newAssetsEnv(t)
	cmd := e.command([]string{"ASSETS_PROGRESS_INTERVAL=1", "FAKE_GO_SLEEP=60"}, "etcd")
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(stderr.String(), "elapsed)") {
		if time.Since(start) > 30*time.Second {
			t.Fatalf("no progress line in 30 s; stderr:\n%s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	r := e.wait(cmd, &stdout, &stderr, start)
	if r.code != 130 {
		t.Errorf("exit %d after SIGINT, want 130", r.code)
	}
	if r.took > 90*time.Second {
		t.Errorf("assets.sh took %v after SIGINT: something held stderr open", r.took)
	}
}
