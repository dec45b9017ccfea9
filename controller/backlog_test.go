package controller_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/internal/csrtest"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
)

// metric reads the series name with the label pairs given (name, value, …) and whether
// it exists.
func metric(t *testing.T, reg *prometheus.Registry, name string, labelPairs ...string) (float64, bool) {
	t.Helper()
	labels := map[string]string{}
	for i := 0; i+1 < len(labelPairs); i += 2 {
		labels[labelPairs[i]] = labelPairs[i+1]
	}
	return testenv.Metric(t, reg, name, labels)
}

// backlog reads tlsbootstrap_csrs{signer,state} (or the oldest-pending age when state is
// ""), and whether the series exists at all.
func backlog(t *testing.T, reg *prometheus.Registry, signer, state string) (float64, bool) {
	t.Helper()
	if state == "" {
		return metric(t, reg, "tlsbootstrap_csr_oldest_pending_seconds", "signer", signer)
	}
	return metric(t, reg, "tlsbootstrap_csrs", "signer", signer, "state", state)
}

// TestBacklogAndPendingWarning: the backlog gauges count what the cache holds by signer
// (served by name, the rest as "other") and state, with the oldest pending age; a kubelet
// CSR the approver leaves pending past PendingWarningAfter gets one PendingTooLong
// Warning saying why.
func TestBacklogAndPendingWarning(t *testing.T) {
	reg, _ := startController(t, controller.Options{
		Controllers:         []string{controller.CSRApproving, controller.CSRSigning},
		PendingWarningAfter: new(2 * time.Second),
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bootstrapNode(ctx, t, "backlog-node")

	// Allowed to create CSRs, not to have them approved: the approver ignores it.
	user := "backlog-user-" + csrtest.UniqueName(t)
	csrtest.BindClusterRole(t, cp, "system:node-bootstrapper", user)
	obj, _ := csrtest.KubeletClientCSR(t, csrtest.UniqueName(t), "backlog-pending")
	pending := csrtest.CreateAs(t, csrtest.ClientAs(t, cp, user), obj)
	foreign := csrtest.Create(t, cp.Client(), csrtest.Object(csrtest.UniqueName(t), "example.com/backlog", obj.Spec.Request, csrtest.ClientUsages, nil))
	defer func() {
		for _, name := range []string{pending.Name, foreign.Name} {
			_ = cp.Client().CertificatesV1().CertificateSigningRequests().Delete(context.Background(), name, metav1.DeleteOptions{})
		}
	}()

	client := certificatesv1.KubeAPIServerClientKubeletSignerName
	csrtest.WaitFor(t, "the backlog gauges to count the issued, pending and foreign CSRs", func() bool {
		issued, _ := backlog(t, reg, client, "issued")
		waiting, _ := backlog(t, reg, client, "pending")
		other, _ := backlog(t, reg, "other", "pending")
		oldest, _ := backlog(t, reg, client, "")
		return issued >= 1 && waiting >= 1 && other >= 1 && oldest > 0
	})
	if _, ok := backlog(t, reg, "example.com/backlog", "pending"); ok {
		t.Errorf("a signer the controller does not serve has a series of its own; want it under \"other\"")
	}

	var warnings []corev1.Event
	csrtest.WaitFor(t, "a PendingTooLong Warning on "+pending.Name, func() bool {
		events, err := cp.Client().CoreV1().Events(metav1.NamespaceAll).List(ctx, metav1.ListOptions{FieldSelector: fields.Set{
			"involvedObject.name": pending.Name, "reason": "PendingTooLong"}.String()})
		if err != nil {
			return false
		}
		warnings = events.Items
		return len(warnings) > 0
	})
	w := warnings[0]
	if w.Type != corev1.EventTypeWarning || !strings.Contains(w.Message, "Pending for") || !strings.Contains(w.Message, "NotAuthorized") {
		t.Errorf("PendingTooLong event %s %q; want a Warning saying how long and why (NotAuthorized)", w.Type, w.Message)
	}
	// Once: the approver keeps retrying, the Warning is not repeated.
	time.Sleep(3 * time.Second)
	events, err := cp.Client().CoreV1().Events(metav1.NamespaceAll).List(ctx, metav1.ListOptions{FieldSelector: fields.Set{
		"involvedObject.name": pending.Name, "reason": "PendingTooLong"}.String()})
	if err != nil {
		t.Fatal(err)
	}
	if len(events.Items) != 1 || events.Items[0].Count > 1 {
		t.Errorf("%d PendingTooLong events (count %d), want one, once", len(events.Items), events.Items[0].Count)
	}
	// The foreign signer's CSR is not the approver's business: no warning.
	events, err = cp.Client().CoreV1().Events(metav1.NamespaceAll).List(ctx, metav1.ListOptions{FieldSelector: fields.Set{
		"involvedObject.name": foreign.Name, "reason": "PendingTooLong"}.String()})
	if err == nil && len(events.Items) > 0 {
		t.Errorf("PendingTooLong on a CSR of a signer the approver does not handle: %q", events.Items[0].Message)
	}
}
