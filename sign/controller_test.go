package sign_test

import (
	"context"
	"testing"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/internal/signing"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"

	"github.com/prometheus/client_golang/prometheus"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

// The controller test serves only kube-apiserver-client, so CSRs other tests leave behind
// for other signers cannot disturb its counts.
const controllerSigner = certificatesv1.KubeAPIServerClientSignerName

type controllerEnv struct {
	client kubernetes.Interface
	ctrl   *signing.Controller
	reg    *prometheus.Registry
}

func startController(t *testing.T, run bool) *controllerEnv {
	t.Helper()
	client := cp.Client()
	ca, err := sign.LoadCA(cp.CACertFile, cp.CAKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := sign.NewSigner(sign.SignerOptions{SignerCAs: map[string]sign.CAProvider{controllerSigner: ca}, SigningDuration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	metrics, err := signing.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	broadcaster := record.NewBroadcaster()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	t.Cleanup(broadcaster.Shutdown)
	recorder := broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "tlsbootstrap-csrsigning-test"})

	factory := informers.NewSharedInformerFactory(client, 0)
	ctrl, err := signing.NewController(client, factory.Certificates().V1().CertificateSigningRequests(), signing.ControllerOptions{
		Signer: signer, Workers: 2, Recorder: recorder, Metrics: metrics,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !run {
		// A controller that is never run still owns its queue: Run on an ended context
		// shuts it down, so no goroutine outlives the test.
		t.Cleanup(func() {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_ = ctrl.Run(ctx)
		})
	}
	if run {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		factory.Start(ctx.Done())
		go func() { done <- ctrl.Run(ctx) }()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			factory.Shutdown()
		})
	}
	return &controllerEnv{client: client, ctrl: ctrl, reg: reg}
}

// counter reads tlsbootstrap_signed_certificates_total for the test signer and result.
func (e *controllerEnv) counter(t *testing.T, result string) float64 {
	t.Helper()
	n, _ := testenv.Metric(t, e.reg, "tlsbootstrap_signed_certificates_total", map[string]string{"signer": controllerSigner, "result": result})
	return n
}

// histogramCount is how many samples histogram name holds for the test signer.
func (e *controllerEnv) histogramCount(t *testing.T, name string) uint64 {
	t.Helper()
	n, _ := testenv.Metric(t, e.reg, name, map[string]string{"signer": controllerSigner})
	return uint64(n)
}

func clientCSR(t *testing.T, usages ...certificatesv1.KeyUsage) *certificatesv1.CertificateSigningRequest {
	return csrObject(uniqueName(t), controllerSigner, request{CN: "robot", Orgs: []string{"robots"}}.PEM(t, newKey(t)), usages, nil)
}

func getCSR(t *testing.T, client kubernetes.Interface, name string) *certificatesv1.CertificateSigningRequest {
	t.Helper()
	obj, err := client.CertificatesV1().CertificateSigningRequests().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

func eventReasons(t *testing.T, client kubernetes.Interface, name string) []string {
	t.Helper()
	list, err := client.CoreV1().Events(metav1.NamespaceDefault).List(context.Background(), metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("involvedObject.name", name).String(),
	})
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, e := range list.Items {
		reasons = append(reasons, e.Reason)
	}
	return reasons
}

func hasReason(reasons []string, want string) bool {
	for _, r := range reasons {
		if r == want {
			return true
		}
	}
	return false
}

func TestControllerSignsExactlyOnce(t *testing.T) {
	testenv.Need(t)
	env := startController(t, true)
	client := env.client

	// Approved by someone else: the watch brings it.
	viaWatch := setCondition(t, client, create(t, client, clientCSR(t, certificatesv1.UsageClientAuth)), certificatesv1.CertificateApproved)
	waitFor(t, "the watched CSR to be signed", func() bool { return len(getCSR(t, client, viaWatch.Name).Status.Certificate) > 0 })

	// Approved by this process: SignNow at once, while the watch delivers it to the workers too.
	approved := setCondition(t, client, create(t, client, clientCSR(t, certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth)), certificatesv1.CertificateApproved)
	written, res, err := env.ctrl.SignNow(context.Background(), approved)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != sign.Signed && !(res.Outcome == sign.Skipped && res.Reason == sign.SkipIssued) {
		t.Fatalf("SignNow: %+v", res)
	}
	if len(written.Status.Certificate) == 0 {
		t.Fatal("SignNow returned a CSR without a certificate")
	}

	// Refused by the rules: Failed once, with an Event.
	bad := setCondition(t, client, create(t, client, clientCSR(t, certificatesv1.UsageClientAuth, certificatesv1.UsageServerAuth)), certificatesv1.CertificateApproved)
	waitFor(t, "the bad CSR to fail", func() bool {
		for _, c := range getCSR(t, client, bad.Name).Status.Conditions {
			if c.Type == certificatesv1.CertificateFailed && c.Reason == sign.ReasonSignerValidationFailure {
				return true
			}
		}
		return false
	})

	// Let the watch deliver every update (including our own writes) and the workers settle.
	time.Sleep(2 * time.Second)
	if got := env.counter(t, "signed"); got != 2 {
		t.Errorf("signed count %v, want exactly 2 (one per approved CSR)", got)
	}
	if got := env.counter(t, "failed"); got != 1 {
		t.Errorf("failed count %v, want exactly 1", got)
	}
	if n := env.histogramCount(t, "tlsbootstrap_issuance_latency_seconds"); n != 2 {
		t.Errorf("issuance latency samples %d, want 2", n)
	}
	if got := getCSR(t, client, approved.Name).Status.Certificate; string(got) != string(written.Status.Certificate) {
		t.Error("the certificate changed after SignNow")
	}
	waitFor(t, "events on the CSRs", func() bool {
		return hasReason(eventReasons(t, client, viaWatch.Name), signing.EventSigned) &&
			hasReason(eventReasons(t, client, approved.Name), signing.EventSigned) &&
			hasReason(eventReasons(t, client, bad.Name), signing.EventSigningFailed)
	})

	// Pending and denied CSRs stay untouched.
	pending := create(t, client, clientCSR(t, certificatesv1.UsageClientAuth))
	denied := setCondition(t, client, create(t, client, clientCSR(t, certificatesv1.UsageClientAuth)), certificatesv1.CertificateDenied)
	time.Sleep(time.Second)
	for _, obj := range []*certificatesv1.CertificateSigningRequest{pending, denied} {
		if got := getCSR(t, client, obj.Name); len(got.Status.Certificate) > 0 {
			t.Errorf("%s was signed", obj.Name)
		}
	}
}

func TestSignNowWithoutRun(t *testing.T) {
	testenv.Need(t)
	env := startController(t, false)
	approved := setCondition(t, env.client, create(t, env.client, clientCSR(t, certificatesv1.UsageClientAuth)), certificatesv1.CertificateApproved)
	_, res, err := env.ctrl.SignNow(context.Background(), approved)
	if err != nil || res.Outcome != sign.Signed {
		t.Fatalf("SignNow: %+v, %v; want Signed", res, err)
	}
	// Calling it again with the stale copy: the conflict is detected, nothing is re-signed.
	_, res, err = env.ctrl.SignNow(context.Background(), approved)
	if err != nil || res.Outcome != sign.Skipped || res.Reason != sign.SkipIssued {
		t.Fatalf("second SignNow: %+v, %v; want Skipped/%s", res, err, sign.SkipIssued)
	}
	if got := env.counter(t, "signed"); got != 1 {
		t.Errorf("signed count %v, want 1", got)
	}
}

func TestNewControllerRequiresSigner(t *testing.T) {
	testenv.Need(t)
	factory := informers.NewSharedInformerFactory(cp.Client(), 0)
	if _, err := signing.NewController(cp.Client(), factory.Certificates().V1().CertificateSigningRequests(), signing.ControllerOptions{}); err == nil {
		t.Error("NewController without a Signer succeeded")
	}
}

// TestClaimKeepsWorkersAway: a CSR claimed before its approval is written is left to
// SignApproved even though the watch delivers the approval first, and signed once from the
// handed object; a released claim goes back to the workers.
func TestClaimKeepsWorkersAway(t *testing.T) {
	testenv.Need(t)
	env := startController(t, true)
	client := env.client

	claimed := create(t, client, clientCSR(t, certificatesv1.UsageClientAuth))
	env.ctrl.Claim(claimed)
	approved := setCondition(t, client, claimed, certificatesv1.CertificateApproved)
	time.Sleep(2 * time.Second) // the watch has delivered the approval to the workers by now
	if got := getCSR(t, client, claimed.Name); len(got.Status.Certificate) > 0 {
		t.Fatal("a worker signed a claimed CSR")
	}
	env.ctrl.SignApproved(context.Background(), approved) // hands it to the workers
	waitFor(t, "the handed CSR to be signed", func() bool { return len(getCSR(t, client, claimed.Name).Status.Certificate) > 0 })

	// A claim whose approval was written by nobody: released, then approved by someone
	// else, the workers sign it.
	released := create(t, client, clientCSR(t, certificatesv1.UsageClientAuth))
	env.ctrl.Claim(released)
	env.ctrl.Release(released)
	setCondition(t, client, released, certificatesv1.CertificateApproved)
	waitFor(t, "the released CSR to be signed by a worker", func() bool {
		return len(getCSR(t, client, released.Name).Status.Certificate) > 0
	})

	time.Sleep(time.Second)
	if got := env.counter(t, "signed"); got != 2 {
		t.Errorf("signed count %v, want exactly 2", got)
	}
}
