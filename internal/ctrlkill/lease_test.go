package ctrlkill_test

import (
	"context"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// leaseNamespace is where the csr-controller keeps its Lease by default.
const leaseNamespace = "kube-system"

// leaseHolder is the Lease's holder identity ("" when the Lease does not exist yet).
func leaseHolder(t *testing.T, name string) string {
	t.Helper()
	lease, err := cp.Client().CoordinationV1().Leases(leaseNamespace).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return ""
	}
	must(t, err, "reading Lease %s", name)
	if lease.Spec.HolderIdentity == nil {
		return ""
	}
	return *lease.Spec.HolderIdentity
}

// waitLeaseHolder waits until the Lease is held by someone other than not (and not
// nobody), polling every 100ms for up to 30s, and returns the holder.
func waitLeaseHolder(t *testing.T, name, not string) string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if h := leaseHolder(t, name); h != "" && h != not {
			return h
		}
	}
	t.Fatalf("Lease %s/%s not taken by a new holder within 30s (held by %q)", leaseNamespace, name, leaseHolder(t, name))
	return ""
}

// whichLeads finds the replica that logged becoming leader as holder and returns it and
// the other one.
func whichLeads(t *testing.T, holder string, a, b *replica) (leader, follower *replica) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		switch {
		case a.logged("became leader", holder):
			return a, b
		case b.logged("became leader", holder):
			return b, a
		}
	}
	t.Fatalf("neither replica logged becoming leader as %s:\n%s:\n%s\n%s:\n%s", holder,
		a.name, tail(a.out.String(), 10), b.name, tail(b.out.String(), 10))
	return nil, nil
}
