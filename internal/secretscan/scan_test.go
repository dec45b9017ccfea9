package secretscan_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/node"
	"github.com/tlsbootstrap/tlsbootstrap/rotate"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

var cp *controlplane.ControlPlane

func TestMain(m *testing.M) { testenv.Main(m, controlplane.Options{}, &cp) }

// needles are the secrets that must appear nowhere: the token and its secret, and for every
// private key pieces of the base64 of its DER (and of the DER itself), so one logged line of
// a key is found even when the rest is cut.
type needles map[string]string // needle -> what it is

func (n needles) addKeyPEM(t *testing.T, what string, data []byte) {
	t.Helper()
	found := false
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if !strings.Contains(block.Type, "PRIVATE KEY") {
			continue
		}
		found = true
		b64 := base64.StdEncoding.EncodeToString(block.Bytes)
		// Every 32-character piece starting on a base64 quantum: any whole PEM line (64
		// characters, starting on a multiple of 64) of the key contains one.
		for i := 0; i+32 <= len(b64); i += 4 {
			n[b64[i:i+32]] = what
		}
		n[string(block.Bytes[:min(len(block.Bytes), 48)][8:])] = what + " (raw DER)"
	}
	if !found {
		t.Fatalf("%s holds no private key", what)
	}
}

func (n needles) scan(where, text string) []string {
	var leaks []string
	for needle, what := range n {
		if strings.Contains(text, needle) {
			leaks = append(leaks, fmt.Sprintf("%s leaks %s", where, what))
		}
	}
	return leaks
}

// TestNoSecretsInLogsErrorsOrEvents runs the whole flow at -v=10 and scans everything.
func TestNoSecretsInLogsErrorsOrEvents(t *testing.T) {
	var logs testenv.SyncBuffer
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	for name, value := range map[string]string{"v": "10", "logtostderr": "false", "alsologtostderr": "false", "stderrthreshold": "FATAL"} {
		if err := fs.Set(name, value); err != nil {
			t.Fatal(err)
		}
	}
	klog.SetOutput(&logs)
	klog.LogToStderr(false)
	defer func() {
		klog.Flush()
		_ = fs.Set("v", "0")
		klog.LogToStderr(true)
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	admin := cp.Client()
	for name, b := range map[string][2]string{
		"secretscan-bootstrapper": {"system:node-bootstrapper", "system:bootstrappers"},
		"secretscan-nodeclient":   {"system:certificates.k8s.io:certificatesigningrequests:nodeclient", "system:bootstrappers"},
		"secretscan-selfnode":     {"system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", "system:nodes"},
	} {
		if _, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: b[0]},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: b[1]}},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	client, err := kubernetes.NewForConfig(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctrlCtx, stopCtrl := context.WithCancel(ctx)
	ctrlDone := make(chan error, 1)
	go func() {
		ctrlDone <- controller.Run(ctrlCtx, client, controller.Options{
			Controllers:      []string{controller.CSRApproving, controller.CSRSigning, controller.CSRCleaner},
			ClusterSigningCA: cp.CA.Signing(),
		})
	}()
	defer func() { stopCtrl(); <-ctrlDone }()

	var errs []error
	tok, err := token.Generate()
	if err != nil {
		t.Fatal(err)
	}
	_, err = token.Create(ctx, admin, token.DefaultSpec(tok))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certDir := filepath.Join(dir, "pki")
	bootPath := filepath.Join(dir, "bootstrap.kubeconfig")
	bootCfg, err := kubeconfig.BootstrapConfig(kubeconfig.BootstrapOptions{Server: cp.Host(), CAData: cp.ServingCAPEM(), Token: tok.Bearer()})
	if err != nil {
		t.Fatal(err)
	}
	if err := kubeconfig.Write(bootPath, bootCfg); err != nil {
		t.Fatal(err)
	}
	// Failures on purpose, so error paths are scanned too: a wrong secret for the same id,
	// and an unparseable token.
	wrong := tok
	wrong.Secret = strings.Repeat("0", len(tok.Secret))
	if _, err := token.Parse(tok.ID + "." + tok.Secret + "X"); err != nil {
		errs = append(errs, err)
	}
	wrongCfg, _ := kubeconfig.BootstrapConfig(kubeconfig.BootstrapOptions{Server: cp.Host(), CAData: cp.ServingCAPEM(), Token: wrong.Bearer()})
	wrongPath := filepath.Join(dir, "wrong.kubeconfig")
	if err := kubeconfig.Write(wrongPath, wrongCfg); err != nil {
		t.Fatal(err)
	}
	shortCtx, cancelShort := context.WithTimeout(ctx, 5*time.Second)
	_, err = node.Bootstrap(shortCtx, node.Options{BootstrapKubeconfig: wrongPath, Kubeconfig: filepath.Join(dir, "wrong-node.kubeconfig"),
		CertDir: filepath.Join(dir, "wrong-pki"), NodeName: "secretscan-wrong"})
	cancelShort()
	if err == nil {
		t.Fatal("bootstrap with a wrong token secret succeeded")
	}
	errs = append(errs, err)

	// The real bootstrap.
	nodeKubeconfig := filepath.Join(dir, "kubelet.kubeconfig")
	res, err := node.Bootstrap(ctx, node.Options{BootstrapKubeconfig: bootPath, Kubeconfig: nodeKubeconfig, CertDir: certDir, NodeName: "secretscan-node"})
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	firstPair, err := os.ReadFile(res.CertificateFile)
	if err != nil {
		t.Fatal(err)
	}

	// One rotation: a Manager whose deadline is now renews at once.
	store, err := rotate.NewStore(certDir, rotate.ClientPrefix, rotate.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	server, err := kubeconfig.RESTConfig(bootPath)
	if err != nil {
		t.Fatal(err)
	}
	server.BearerToken = ""
	var deadlines atomic.Int32
	mgr, err := rotate.NewManager(rotate.ManagerOptions{Store: store, NodeName: "secretscan-node", Server: server,
		Deadline: func(cert *x509.Certificate) time.Time {
			if deadlines.Add(1) == 1 {
				return time.Now() // renew once, at once
			}
			return cert.NotAfter
		}})
	if err != nil {
		t.Fatal(err)
	}
	renewCtx, stopRenewing := context.WithCancel(ctx)
	renewing := make(chan error, 1)
	go func() { renewing <- mgr.Run(renewCtx) }()
	for mgr.Status().Rotations < 1 {
		if ctx.Err() != nil {
			t.Fatalf("no rotation: %v", mgr.Status().LastError)
		}
		time.Sleep(100 * time.Millisecond)
	}
	stopRenewing()
	if err := <-renewing; err != nil {
		t.Fatal(err)
	}
	rotated, err := os.ReadFile(filepath.Join(certDir, rotate.ClientPrefix+"-current.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(rotated, firstPair) {
		t.Fatal("the rotation stored nothing new")
	}
	// Let the controller's Events reach the API server.
	time.Sleep(2 * time.Second)
	klog.Flush()

	n := needles{tok.Secret: "the bootstrap token secret", tok.Reveal(): "the bootstrap token"}
	n.addKeyPEM(t, "the first node key", firstPair)
	n.addKeyPEM(t, "the rotated node key", rotated)
	n.addKeyPEM(t, "the CA key", cp.CA.KeyPEM)

	var leaks []string
	lines := strings.Split(logs.String(), "\n")
	if len(lines) < 50 {
		t.Fatalf("only %d log lines at -v=10: the capture does not work, so the scan proves nothing", len(lines))
	}
	for i, line := range lines {
		leaks = append(leaks, n.scan(fmt.Sprintf("log line %d", i+1), line)...)
	}
	for i, e := range errs {
		leaks = append(leaks, n.scan(fmt.Sprintf("error %d (%v)", i+1, e), e.Error())...)
	}
	events, err := admin.CoreV1().Events("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(events.Items) == 0 {
		t.Fatal("no Events recorded: the scan of Events proves nothing")
	}
	for _, ev := range events.Items {
		leaks = append(leaks, n.scan("event "+ev.Name, ev.Message+" "+ev.Reason)...)
	}
	t.Logf("scanned %d log lines, %d errors, %d events for %d needles", len(lines), len(errs), len(events.Items), len(n))
	if path := os.Getenv("SECRETSCAN_SUMMARY"); path != "" {
		_ = os.WriteFile(path, []byte(fmt.Sprintf("secret scan: %d log lines, %d errors, %d events scanned; %d secrets leaked\n", len(lines), len(errs), len(events.Items), len(leaks))), 0o644)
	}
	for _, l := range leaks {
		t.Error(l)
	}

	// Key-bearing files: 0600.
	files, _ := filepath.Glob(filepath.Join(certDir, "*"))
	files = append(files, bootPath, nodeKubeconfig)
	for _, f := range files {
		fi, err := os.Lstat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode()&os.ModeSymlink != 0 || fi.IsDir() {
			continue
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s has mode %o, want 600", f, perm)
		}
	}
}

// TestNeedlesFindLeaks: the scan finds a single PEM line of a key and the token secret (so a
// pass of the real scan means something).
func TestNeedlesFindLeaks(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	n := needles{"0123456789abcdef": "secret"}
	n.addKeyPEM(t, "key", keyPEM)
	pemLines := strings.Split(string(keyPEM), "\n")
	for i, line := range pemLines[1 : len(pemLines)-3] { // whole 64-character lines
		if len(n.scan("line", "I1123 got "+line+" from disk")) == 0 {
			t.Errorf("PEM line %d of the key not found", i+1)
		}
	}
	if len(n.scan("line", "token abcdef.0123456789abcdef")) == 0 {
		t.Error("token secret not found")
	}
	if leaks := n.scan("line", "nothing to see here"); len(leaks) != 0 {
		t.Errorf("false positive: %v", leaks)
	}
}
