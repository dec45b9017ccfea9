package approve_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/internal/approving"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"

	"github.com/prometheus/client_golang/prometheus"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
)

// runController starts an approval controller against the test API server and stops it
// when the test ends.
func runController(t *testing.T, serving *approve.ServingPolicy, handoff approving.Handoff) *prometheus.Registry {
	t.Helper()
	admin := cp.Client()
	ctx, cancel := context.WithCancel(context.Background())
	factory := informers.NewSharedInformerFactory(admin, 0)
	opts := approve.Options{Authorizer: approve.NewSARAuthorizer(admin, approve.SAROptions{})}
	var syncs []cache.InformerSynced
	if serving != nil {
		facts, err := approve.NewClusterFacts(admin, factory.Core().V1().Nodes().Informer())
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = facts.Run(ctx) }()
		opts.Serving = &approve.ServingOptions{Policy: *serving, Facts: facts}
		syncs = append(syncs, facts.HasSynced)
	}
	approver, err := approve.NewApprover(opts)
	if err != nil {
		t.Fatal(err)
	}
	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: admin.CoreV1().Events("")})
	registry := prometheus.NewRegistry()
	metrics, err := approving.NewMetrics(registry)
	if err != nil {
		t.Fatal(err)
	}
	ctrl, err := approving.NewController(admin, factory.Certificates().V1().CertificateSigningRequests(), approving.ControllerOptions{
		Approver:   approver,
		Recorder:   broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "tlsbootstrap-approver"}),
		Metrics:    metrics,
		Handoff:    handoff,
		CacheSyncs: syncs,
	})
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	done := make(chan error, 1)
	go func() { done <- ctrl.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		factory.Shutdown()
		broadcaster.Shutdown()
	})
	return registry
}

// sample reads one series from the registry (testenv.Metric); -1 when it does not exist.
func sample(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	if v, ok := testenv.Metric(t, reg, name, labels); ok {
		return v
	}
	return -1
}

// eventsFor lists the Events recorded on a CSR (cluster-scoped objects' Events live in
// the default namespace).
func eventsFor(t *testing.T, name string) []corev1.Event {
	t.Helper()
	list, err := cp.Client().CoreV1().Events("default").List(context.Background(), metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("involvedObject.name", name).String(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func hasEvent(events []corev1.Event, eventType, reason, messagePart string) bool {
	for _, e := range events {
		if e.Type == eventType && e.Reason == reason && strings.Contains(e.Message, messagePart) {
			return true
		}
	}
	return false
}

// TestControllerApprovesOnceGranted: an unauthorized CSR stays Pending (never Denied) and
// the controller approves it after a binding appears, claiming it for the Handoff before
// writing the approval and handing it over right after.
func TestControllerApprovesOnceGranted(t *testing.T) {
	testenv.Need(t)
	handoff := &recordingHandoff{}
	metrics := runController(t, nil, handoff)
	user, groups := bootstrapUser(t)
	created := createCSR(t, clientAs(t, user, groups...), kubeletClientSigner, clientUsages, kubeletRequest("late"))

	// Unauthorized: the controller looks (an Event says so) and leaves it Pending.
	waitFor(t, 15*time.Second, "a NotAuthorized event", func() bool {
		return hasEvent(eventsFor(t, created.Name), corev1.EventTypeNormal, approve.ReasonNotAuthorized, "nodeclient")
	})
	time.Sleep(time.Second)
	if got := getCSR(t, created.Name); len(got.Status.Conditions) != 0 {
		t.Fatalf("unauthorized CSR got conditions %+v, want Pending", got.Status.Conditions)
	}

	grant(t, user, groups, approve.KindNodeClient)
	waitFor(t, 30*time.Second, "approval after the grant", func() bool {
		return condition(getCSR(t, created.Name), certificatesv1.CertificateApproved) != nil
	})
	c := condition(getCSR(t, created.Name), certificatesv1.CertificateApproved)
	if c.Reason != "AutoApproved" || c.Message != "Auto approving kubelet client certificate after SubjectAccessReview." {
		t.Errorf("condition %+v", c)
	}
	if got := handoff.calls(created.Name); !slices.Equal(got, []string{"Claim", "SignApproved"}) {
		t.Errorf("handoff calls for %s = %v, want [Claim SignApproved] (claimed before the approval is written)", created.Name, got)
	}
	if hook := handoff.signed(created.Name); hook == nil || condition(hook, certificatesv1.CertificateApproved) == nil {
		t.Errorf("SignApproved was not given the approved CSR (got %v)", hook)
	}
	waitFor(t, 10*time.Second, "an AutoApproved event", func() bool {
		return hasEvent(eventsFor(t, created.Name), corev1.EventTypeNormal, "AutoApproved", "kubelet client")
	})
	if n := sample(t, metrics, "tlsbootstrap_approval_decisions_total", map[string]string{"kind": "nodeclient", "result": approving.ResultApproved}); n < 1 {
		t.Errorf("approved nodeclient decisions = %v, want ≥ 1", n)
	}
	if n := sample(t, metrics, "tlsbootstrap_approval_decisions_total", map[string]string{"kind": "", "result": approving.ResultIgnored}); n < 1 {
		t.Errorf("ignored decisions = %v, want ≥ 1", n)
	}
}

// TestControllerServing: with serving approval on, a serving CSR with the Node's own
// addresses is approved and one with another node's address is denied, with a Warning
// Event naming the address.
func TestControllerServing(t *testing.T) {
	testenv.Need(t)
	createNode(t, "ctl1",
		corev1.NodeAddress{Type: corev1.NodeHostName, Address: "ctl1"},
		corev1.NodeAddress{Type: corev1.NodeExternalDNS, Address: "ctl1.example.com"},
		corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "10.2.0.1"})
	metrics := runController(t, &approve.ServingPolicy{}, nil)
	node := "system:node:ctl1"
	grant(t, node, []string{"system:nodes"}, approve.KindSelfNodeServer)
	as := clientAs(t, node, "system:nodes")
	usages := []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth}

	good := createCSR(t, as, kubeletServingSigner, usages, kubeletRequest("ctl1").withDNS("ctl1", "ctl1.example.com").withIPs("10.2.0.1"))
	bad := createCSR(t, as, kubeletServingSigner, usages, kubeletRequest("ctl1").withDNS("ctl1", "evil.example.com"))
	waitFor(t, 20*time.Second, "the good serving CSR approved", func() bool {
		return condition(getCSR(t, good.Name), certificatesv1.CertificateApproved) != nil
	})
	waitFor(t, 20*time.Second, "the bad serving CSR denied", func() bool {
		return condition(getCSR(t, bad.Name), certificatesv1.CertificateDenied) != nil
	})
	if c := condition(getCSR(t, bad.Name), certificatesv1.CertificateDenied); !strings.Contains(c.Message, `"evil.example.com"`) || c.Reason != approve.ReasonAutoDenied {
		t.Errorf("denial %q / %q does not name the offending SAN", c.Reason, c.Message)
	}
	waitFor(t, 10*time.Second, "a Warning event naming the SAN", func() bool {
		return hasEvent(eventsFor(t, bad.Name), corev1.EventTypeWarning, approve.ReasonAutoDenied, "evil.example.com")
	})
	if n := sample(t, metrics, "tlsbootstrap_approval_decisions_total", map[string]string{"kind": "selfnodeserver", "result": approving.ResultDenied}); n != 1 {
		t.Errorf("denied selfnodeserver decisions = %v, want 1", n)
	}
	for _, result := range []string{approving.ResultApproved, approving.ResultDenied} {
		if n := sample(t, metrics, "tlsbootstrap_approval_latency_seconds", map[string]string{"kind": "selfnodeserver", "result": result}); n != 1 {
			t.Errorf("latency observations for %s = %v, want 1", result, n)
		}
	}
}

// recordingHandoff records the Handoff calls per CSR. Claim checks that the approval is
// not yet written: the claim must come first.
type recordingHandoff struct {
	mu       sync.Mutex
	log      map[string][]string
	approved map[string]*certificatesv1.CertificateSigningRequest
}

func (h *recordingHandoff) add(obj *certificatesv1.CertificateSigningRequest, call string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.log == nil {
		h.log, h.approved = map[string][]string{}, map[string]*certificatesv1.CertificateSigningRequest{}
	}
	if call == "Claim" && condition(obj, certificatesv1.CertificateApproved) != nil {
		call = "Claim(after approval)"
	}
	h.log[obj.Name] = append(h.log[obj.Name], call)
	if call == "SignApproved" {
		h.approved[obj.Name] = obj
	}
}

func (h *recordingHandoff) Claim(obj *certificatesv1.CertificateSigningRequest) { h.add(obj, "Claim") }
func (h *recordingHandoff) Release(obj *certificatesv1.CertificateSigningRequest) {
	h.add(obj, "Release")
}
func (h *recordingHandoff) SignApproved(_ context.Context, obj *certificatesv1.CertificateSigningRequest) {
	h.add(obj, "SignApproved")
}

func (h *recordingHandoff) calls(name string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.log[name])
}

func (h *recordingHandoff) signed(name string) *certificatesv1.CertificateSigningRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.approved[name]
}
