package controller_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/klog/v2"

	"k8s.io/client-go/kubernetes"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/klog/v2/textlogger"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/internal/faults"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

// reloadCheck is how often sign.FileCA looks at its files: the default
// FileCAOptions.CheckInterval, which controller.Run uses for the cluster signing CA.
const reloadCheck = 10 * time.Second

// switchBound is how long after a complete pair is on disk its CA must be in use: one
// reload check, plus a CSR's round trip and slack for a loaded machine.
const switchBound = reloadCheck + 8*time.Second

// caSet tells which of the test's CAs issued a certificate.
type caSet struct {
	names []string
	cas   []*sign.CA
}

// classify names the CA whose key signed cert and whose subject is its issuer. A
// certificate whose signature verifies with one CA's key but whose issuer is another CA
// comes from a mismatched pair (cert file of one CA, key file of another).
func (s caSet) classify(cert *x509.Certificate) (name string, mismatched bool) {
	signer, issuer := -1, -1
	for i, ca := range s.cas {
		if signer < 0 && cert.CheckSignatureFrom(ca.Cert) == nil {
			signer = i
		}
		if issuer < 0 && bytes.Equal(cert.RawIssuer, ca.Cert.RawSubject) {
			issuer = i
		}
	}
	switch {
	case signer < 0:
		return "an unknown CA (issuer " + cert.Issuer.String() + ")", false
	case signer != issuer:
		return fmt.Sprintf("the key of %s under the name of CA %q", s.names[signer], cert.Issuer.String()), true
	}
	return s.names[signer], false
}

// replaceFile replaces path the way an operator or cert-manager does: a temporary file in
// the same folder, then a rename over path, so a reader sees the old or the new file.
func replaceFile(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".new-*")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmp.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := tmp.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		t.Fatal(err)
	}
}

// TestCAReplacedWhileControllerRuns replaces the cluster signing CA files under a running
// controller (csrapproving+csrsigning, in-process) while a bootstrap identity keeps
// requesting node client certificates, auto-approved through kubeadm's nodeclient
// binding:
//   - CA #1 (ECDSA P-256) issues the first certificate.
//   - Cert-then-key: CA #2's (RSA 2048) certificate replaces the cert file and the key file
//     still holds CA #1's key. sign.FileCA promises to refuse such a pair, log it and keep
//     the previous CA: every certificate issued meanwhile chains to CA #1, none comes from
//     the mismatched pair, and the refusal is logged naming the key file.
//   - The key file then gets CA #2's key: within one reload check (10s) plus a CSR's round
//     trip, new certificates chain to CA #2 and not to CA #1, without a restart.
//   - Key-then-cert, back to back: CA #3 (ECDSA P-384) replaces CA #2 the same way.
func TestCAReplacedWhileControllerRuns(t *testing.T) {
	var figures []string
	var issued, mismatched int
	faults.Record(t, "CA files replaced while the controller runs", func() string {
		return strings.Join(append(figures, fmt.Sprintf("%d certificates from a mismatched pair (of %d issued)", mismatched, issued)), "; ")
	})

	var cas caSet
	for i, kt := range []csr.KeyType{csr.ECDSAP256, csr.RSA2048, csr.ECDSAP384} {
		ca, err := sign.NewSelfSignedCA(sign.SelfSignedOptions{CommonName: fmt.Sprintf("careload-ca-%d", i+1), KeyType: kt})
		if err != nil {
			t.Fatal(err)
		}
		cas.names = append(cas.names, fmt.Sprintf("CA #%d", i+1))
		cas.cas = append(cas.cas, ca)
	}
	keyPEM := func(ca *sign.CA) []byte {
		data, err := ca.KeyPEM()
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	if err := cas.cas[0].WriteFiles(certFile, keyFile); err != nil {
		t.Fatal(err)
	}

	// The CA's reloads and refusals are logged through Options.Logger.
	var logs testenv.SyncBuffer
	logger := textlogger.NewLogger(textlogger.NewConfig(textlogger.Output(&logs)))

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	runCtx, stopRun := context.WithCancel(ctx)
	done := make(chan error, 1)
	ca, err := sign.NewFileCA(klog.NewContext(context.Background(), logger), certFile, keyFile, sign.FileCAOptions{})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		done <- controller.Run(klog.NewContext(runCtx, logger), cp.Client(), controller.Options{
			Controllers:      []string{controller.CSRApproving, controller.CSRSigning},
			ClusterSigningCA: ca,
			SigningDuration:  time.Hour,
		})
	}()
	t.Cleanup(func() { stopRun(); <-done })

	// Requests come from a bootstrap token (system:bootstrappers:kubeadm:default-node-token),
	// which TestMain's kubeadm preset lets create CSRs and have them auto-approved.
	bootstrap, err := kubeconfig.RESTConfig(testenv.BootstrapKubeconfig(t, cp))
	if err != nil {
		t.Fatal(err)
	}
	client, err := kubernetes.NewForConfig(bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	// request gets one new node client certificate issued and names the CA that signed it.
	request := func() string {
		t.Helper()
		key, err := csr.GenerateKey(csr.ECDSAP256)
		if err != nil {
			t.Fatal(err)
		}
		spec, err := csr.NodeClientSpec("careload-node", key, nil)
		if err != nil {
			t.Fatal(err)
		}
		reqCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		certPEM, name, err := csr.Request(reqCtx, client, csr.RequestSpec{Spec: spec, Key: key})
		if err != nil {
			t.Fatalf("CSR %s: %v", name, err)
		}
		certs, err := certutil.ParseCertsPEM(certPEM)
		if err != nil {
			t.Fatalf("certificate of CSR %s: %v", name, err)
		}
		cert := certs[0]
		issued++
		by, bad := cas.classify(cert)
		if bad {
			mismatched++
			t.Errorf("CSR %s: certificate signed with %s", name, by)
		}
		return by
	}
	// untilSwitch requests certificates from changed on until one comes from want; every
	// certificate before must come from old. It returns how long after changed the first
	// certificate of want was issued.
	untilSwitch := func(old, want string, changed time.Time) time.Duration {
		t.Helper()
		for {
			by := request()
			switch by {
			case want:
				return time.Since(changed)
			case old:
			default:
				t.Fatalf("certificate from %s, want %s or %s", by, old, want)
			}
			if time.Since(changed) > switchBound {
				t.Fatalf("still issuing from %s %s after the files changed (reload check every %s)", old, switchBound, reloadCheck)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	if by := request(); by != "CA #1" {
		t.Fatalf("first certificate from %s, want CA #1", by)
	}

	// Cert-then-key, with the half-replaced state left until FileCA has looked at it.
	replaceFile(t, certFile, cas.cas[1].CertPEM())
	half := time.Now()
	kept := 0
	const refused = "Keeping the previous signing CA"
	for !strings.Contains(logs.String(), refused) {
		if by := request(); by != "CA #1" {
			t.Fatalf("certificate from %s while the cert file holds CA #2 and the key file CA #1's key: want CA #1 (the previous CA kept)", by)
		}
		kept++
		if time.Since(half) > switchBound {
			t.Fatalf("no failed reload logged %s after the cert file changed; log:\n%s", switchBound, logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, refused) {
			t.Logf("refusal logged: %s", line)
			for _, want := range []string{"does not match", keyFile, certFile} {
				if !strings.Contains(line, want) {
					t.Errorf("the failed reload's log line does not name %q: %s", want, line)
				}
			}
			break
		}
	}
	// The controller still signs with CA #1 after refusing the pair.
	for range 2 {
		if by := request(); by != "CA #1" {
			t.Fatalf("certificate from %s after the half-replaced pair was refused, want CA #1", by)
		}
		kept++
	}
	figures = append(figures, fmt.Sprintf("half-replaced pair (CA #2 cert, CA #1 key) refused and logged, CA #1 kept for %d certificates", kept))

	replaceFile(t, keyFile, keyPEM(cas.cas[1]))
	took := untilSwitch("CA #1", "CA #2", time.Now())
	for range 3 {
		if by := request(); by != "CA #2" {
			t.Fatalf("certificate from %s after the switch to CA #2", by)
		}
	}
	figures = append(figures, fmt.Sprintf("cert-then-key ECDSA→RSA: CA #2 in use %s after the pair was complete", took.Round(100*time.Millisecond)))

	// Key-then-cert, back to back.
	changed := time.Now()
	replaceFile(t, keyFile, keyPEM(cas.cas[2]))
	replaceFile(t, certFile, cas.cas[2].CertPEM())
	took = untilSwitch("CA #2", "CA #3", changed)
	for range 3 {
		if by := request(); by != "CA #3" {
			t.Fatalf("certificate from %s after the switch to CA #3", by)
		}
	}
	figures = append(figures, fmt.Sprintf("key-then-cert RSA→ECDSA P-384: CA #3 in use %s after the files changed (bound %s: reload check every %s)",
		took.Round(100*time.Millisecond), switchBound, reloadCheck))

	for _, want := range []string{"Reloaded signing CA", "careload-ca-2", "careload-ca-3"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log does not contain %q", want)
		}
	}
}
