package csrcleaner_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/internal/csrtest"

	testingclock "k8s.io/utils/clock/testing"

	"github.com/tlsbootstrap/tlsbootstrap/csrcleaner"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	certinformers "k8s.io/client-go/informers/certificates/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

func TestShouldDelete(t *testing.T) {
	now := time.Date(2032, 3, 4, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }
	ca := csrtest.MustCA(t, sign.SelfSignedOptions{Clock: testingclock.NewFakePassiveClock(now.Add(-30 * 24 * time.Hour))})
	certValidUntil := func(notAfter time.Time) []byte {
		obj, _ := csrtest.KubeletClientCSR(t, "c", "n1")
		ttl := notAfter.Sub(now.Add(-2 * time.Hour))
		p, err := sign.Issue(ca, obj, now.Add(-2*time.Hour), ttl)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	live, expired := certValidUntil(now.Add(48*time.Hour)), certValidUntil(now.Add(-time.Minute))
	cond := func(typ certificatesv1.RequestConditionType, at metav1.Time) certificatesv1.CertificateSigningRequestCondition {
		return certificatesv1.CertificateSigningRequestCondition{Type: typ, Status: corev1.ConditionTrue, LastUpdateTime: at}
	}
	type conds = []certificatesv1.CertificateSigningRequestCondition
	for _, tc := range []struct {
		name    string
		created metav1.Time
		conds   conds
		cert    []byte
		want    bool
	}{
		{"pending, new", ago(23 * time.Hour), nil, nil, false},
		{"pending, past 24h", ago(25 * time.Hour), nil, nil, true},
		{"pending, no creation time", metav1.Time{}, nil, nil, false},
		{"issued, approved 59m ago", ago(2 * time.Hour), conds{cond(certificatesv1.CertificateApproved, ago(59*time.Minute))}, live, false},
		{"issued, approved 61m ago", ago(2 * time.Hour), conds{cond(certificatesv1.CertificateApproved, ago(61*time.Minute))}, live, true},
		{"issued, approval time unset", ago(2 * time.Hour), conds{cond(certificatesv1.CertificateApproved, metav1.Time{})}, live, false},
		{"issued and expired, approved just now", ago(2 * time.Hour), conds{cond(certificatesv1.CertificateApproved, ago(time.Minute))}, expired, true},
		{"expired certificate without approval", ago(2 * time.Hour), nil, expired, false},
		{"unparseable certificate, approved just now", ago(2 * time.Hour), conds{cond(certificatesv1.CertificateApproved, ago(time.Minute))}, []byte("junk"), false},
		{"denied 59m ago", ago(2 * time.Hour), conds{cond(certificatesv1.CertificateDenied, ago(59*time.Minute))}, nil, false},
		{"denied 61m ago", ago(2 * time.Hour), conds{cond(certificatesv1.CertificateDenied, ago(61*time.Minute))}, nil, true},
		{"failed 59m ago", ago(2 * time.Hour), conds{cond(certificatesv1.CertificateApproved, ago(2*time.Hour)), cond(certificatesv1.CertificateFailed, ago(59*time.Minute))}, nil, false},
		{"failed 61m ago", ago(2 * time.Hour), conds{cond(certificatesv1.CertificateApproved, ago(2*time.Hour)), cond(certificatesv1.CertificateFailed, ago(61*time.Minute))}, nil, true},
		{"approved, unissued 23h", ago(30 * time.Hour), conds{cond(certificatesv1.CertificateApproved, ago(23*time.Hour))}, nil, false},
		{"approved, unissued 25h", ago(30 * time.Hour), conds{cond(certificatesv1.CertificateApproved, ago(25*time.Hour))}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := &certificatesv1.CertificateSigningRequest{
				ObjectMeta: metav1.ObjectMeta{Name: "x", CreationTimestamp: tc.created},
				Status:     certificatesv1.CertificateSigningRequestStatus{Conditions: tc.conds, Certificate: tc.cert},
			}
			got, why := csrcleaner.ShouldDelete(obj, now)
			if got != tc.want {
				t.Fatalf("ShouldDelete = %v (%q), want %v", got, why, tc.want)
			}
			if got && why == "" {
				t.Error("no reason given for a deletion")
			}
		})
	}

	// Custom retention replaces the defaults it sets.
	short := csrcleaner.Retention{Pending: time.Hour}
	obj := &certificatesv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: ago(2 * time.Hour)}}
	if del, _ := short.ShouldDelete(obj, now); !del {
		t.Error("Retention{Pending: 1h} kept a 2h-old pending CSR")
	}
}

// TestCleanOnce runs the cleaner against the real API server with a clock moved forward,
// reading CSRs by listing them (in pages of 2, so that a pass spans pages) and from an
// informer's cache.
func TestCleanOnce(t *testing.T) {
	testenv.Need(t)
	defer csrcleaner.SetListPageSize(2)()
	client := cp.Client()
	for _, source := range []string{"list", "informer"} {
		t.Run(source, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var informer certinformers.CertificateSigningRequestInformer
			if source == "informer" {
				factory := informers.NewSharedInformerFactory(client, 0)
				informer = factory.Certificates().V1().CertificateSigningRequests()
				informer.Informer()
				factory.Start(ctx.Done())
				defer factory.Shutdown() // after cancel: Shutdown waits for the informers to stop
				defer cancel()
			}
			testCleanOnce(t, ctx, client, informer)
		})
	}
}

func testCleanOnce(t *testing.T, ctx context.Context, client kubernetes.Interface, informer certinformers.CertificateSigningRequestInformer) {
	signer := csrtest.ClusterSigner(t, cp)
	mk := func() *certificatesv1.CertificateSigningRequest {
		obj, _ := csrtest.KubeletClientCSR(t, csrtest.UniqueName(t), "clean")
		return csrtest.Create(t, client, obj)
	}
	pending := mk()
	denied := csrtest.SetCondition(t, client, mk(), certificatesv1.CertificateDenied)
	approvedUnissued := csrtest.SetCondition(t, client, mk(), certificatesv1.CertificateApproved)
	issued, res, err := signer.Sign(ctx, client, csrtest.SetCondition(t, client, mk(), certificatesv1.CertificateApproved))
	if err != nil || res.Outcome != sign.Signed {
		t.Fatalf("Sign: %+v %v", res, err)
	}
	exists := func(name string) bool {
		_, err := client.CertificatesV1().CertificateSigningRequests().Get(ctx, name, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		return err == nil
	}
	// The cache must hold each CSR as it is now before a pass reads it.
	synced := func(objs ...*certificatesv1.CertificateSigningRequest) {
		if informer == nil {
			return
		}
		csrtest.WaitFor(t, "the informer to catch up", func() bool {
			for _, obj := range objs {
				cached, err := informer.Lister().Get(obj.Name)
				live, lerr := client.CertificatesV1().CertificateSigningRequests().Get(ctx, obj.Name, metav1.GetOptions{})
				if apierrors.IsNotFound(lerr) != apierrors.IsNotFound(err) || err == nil && lerr == nil && cached.ResourceVersion != live.ResourceVersion {
					return false
				}
			}
			return true
		})
	}
	start := time.Now()
	for _, step := range []struct {
		after      time.Duration
		gone, kept []*certificatesv1.CertificateSigningRequest
	}{
		{30 * time.Minute, nil, []*certificatesv1.CertificateSigningRequest{pending, denied, approvedUnissued, issued}},
		{2 * time.Hour, []*certificatesv1.CertificateSigningRequest{denied, issued}, []*certificatesv1.CertificateSigningRequest{pending, approvedUnissued}},
		{25 * time.Hour, []*certificatesv1.CertificateSigningRequest{pending, approvedUnissued}, nil},
	} {
		synced(pending, denied, approvedUnissued, issued)
		cleaner := csrcleaner.New(client, csrcleaner.Options{Clock: testingclock.NewFakePassiveClock(start.Add(step.after)), Informer: informer})
		deleted, err := cleaner.CleanOnce(ctx)
		if err != nil {
			t.Fatalf("after %s: %v", step.after, err)
		}
		for _, obj := range step.gone {
			if !slices.Contains(deleted, obj.Name) || exists(obj.Name) {
				t.Errorf("after %s: %s not deleted (deleted %v)", step.after, obj.Name, deleted)
			}
		}
		for _, obj := range step.kept {
			if slices.Contains(deleted, obj.Name) || !exists(obj.Name) {
				t.Errorf("after %s: %s deleted, want kept", step.after, obj.Name)
			}
		}
	}
}

// TestCleanerRunStopsWithContext runs the cleaner as controller.Run does, listing or
// reading an informer whose factory starts after NewCleaner (and which nothing else uses):
// its first pass deletes an old CSR, and it returns once ctx ends.
func TestCleanerRunStopsWithContext(t *testing.T) {
	testenv.Need(t)
	client := cp.Client()
	for _, source := range []string{"list", "informer"} {
		t.Run(source, func(t *testing.T) {
			obj, _ := csrtest.KubeletClientCSR(t, csrtest.UniqueName(t), "run")
			old := csrtest.Create(t, client, obj)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			opts := csrcleaner.Options{Interval: time.Hour, Clock: testingclock.NewFakePassiveClock(time.Now().Add(48 * time.Hour))}
			var factory informers.SharedInformerFactory
			if source == "informer" {
				factory = informers.NewSharedInformerFactory(client, 0)
				opts.Informer = factory.Certificates().V1().CertificateSigningRequests()
			}
			cleaner := csrcleaner.New(client, opts)
			if factory != nil {
				factory.Start(ctx.Done())
				defer factory.Shutdown() // after cancel: Shutdown waits for the informers to stop
				defer cancel()
			}
			done := make(chan struct{})
			go func() {
				_ = cleaner.Run(ctx)
				close(done)
			}()
			csrtest.WaitFor(t, "Run's first pass to delete the old pending CSR", func() bool {
				_, err := client.CertificatesV1().CertificateSigningRequests().Get(context.Background(), old.Name, metav1.GetOptions{})
				return apierrors.IsNotFound(err)
			})
			cancel()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return after the context ended")
			}
		})
	}
}
