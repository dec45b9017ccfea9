package approve_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authorizationv1 "k8s.io/api/authorization/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
)

// sarServer is a fake clientset answering SubjectAccessReviews with a switchable answer
// and counting them: the SAR cache is pure logic (the real-server tests cover what the
// API server answers).
type sarServer struct {
	client  *fake.Clientset
	allowed atomic.Bool
	count   atomic.Int32
	mu      sync.Mutex
	last    authorizationv1.SubjectAccessReviewSpec
	block   chan struct{} // when set, each review waits for it to close
	entered chan struct{} // when set, receives once per review started
}

func newSARServer() *sarServer {
	s := &sarServer{client: fake.NewClientset()}
	s.client.PrependReactor("create", "subjectaccessreviews", func(action k8stesting.Action) (bool, runtime.Object, error) {
		sar := action.(k8stesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview).DeepCopy()
		s.count.Add(1)
		s.mu.Lock()
		s.last = sar.Spec
		s.mu.Unlock()
		if s.entered != nil {
			s.entered <- struct{}{}
		}
		if s.block != nil {
			<-s.block
		}
		sar.Status.Allowed = s.allowed.Load()
		if !sar.Status.Allowed {
			sar.Status.Reason = "no binding"
		}
		return true, sar, nil
	})
	return s
}

func renewalCSR(groups ...string) *certificatesv1.CertificateSigningRequest {
	obj := csrObject("x", kubeletClientSigner, "system:node:n1", clientUsages, nil)
	obj.Spec.UID = "uid-1"
	obj.Spec.Groups = groups
	obj.Spec.Extra = map[string]certificatesv1.ExtraValue{"scopes": {"a", "b"}}
	return obj
}

func TestSARAuthorizerSendsTheUpstreamReview(t *testing.T) {
	s := newSARServer()
	s.allowed.Store(true)
	a := approve.NewSARAuthorizer(s.client, approve.SAROptions{CacheTTL: new(time.Duration(0))})
	obj := renewalCSR("system:nodes", "system:authenticated")
	allowed, _, err := a.Authorize(context.Background(), obj, approve.KindSelfNodeClient)
	if err != nil || !allowed {
		t.Fatalf("Authorize = %v, %v; want allowed", allowed, err)
	}
	want := authorizationv1.SubjectAccessReviewSpec{
		User:   "system:node:n1",
		UID:    "uid-1",
		Groups: []string{"system:nodes", "system:authenticated"},
		Extra:  map[string]authorizationv1.ExtraValue{"scopes": {"a", "b"}},
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Group: "certificates.k8s.io", Version: "*", Resource: "certificatesigningrequests",
			Subresource: "selfnodeclient", Verb: "create",
		},
	}
	if diff := cmp.Diff(want, s.last); diff != "" {
		t.Errorf("SubjectAccessReview spec (-want +got):\n%s", diff)
	}
}

// TestSARCacheBound checks the documented bound with a fake clock: an allowed answer is
// reused for less than CacheTTL after its review was sent and never at or past it, so a
// revoked binding stops approving within CacheTTL; denials are never reused.
func TestSARCacheBound(t *testing.T) {
	const ttl = 5 * time.Second
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	for _, tc := range []struct {
		name        string
		firstAnswer bool
		revokeAfter bool          // flip the server to "denied" after the first review
		askAt       time.Duration // second question, after the first
		otherCSR    *certificatesv1.CertificateSigningRequest
		otherKind   approve.Kind
		wantAllowed bool
		wantReviews int32
	}{
		{name: "allowed reused just before the bound", firstAnswer: true, revokeAfter: true, askAt: ttl - time.Nanosecond, wantAllowed: true, wantReviews: 1},
		{name: "revocation seen at the bound", firstAnswer: true, revokeAfter: true, askAt: ttl, wantAllowed: false, wantReviews: 2},
		{name: "revocation seen after the bound", firstAnswer: true, revokeAfter: true, askAt: time.Minute, wantAllowed: false, wantReviews: 2},
		{name: "denial not cached", firstAnswer: false, askAt: time.Millisecond, wantAllowed: false, wantReviews: 2},
		{name: "groups in another order hit", firstAnswer: true, askAt: time.Second,
			otherCSR: renewalCSR("system:authenticated", "system:nodes"), wantAllowed: true, wantReviews: 1},
		{name: "other groups miss", firstAnswer: true, askAt: time.Second,
			otherCSR: renewalCSR("system:nodes"), wantAllowed: true, wantReviews: 2},
		{name: "other kind misses", firstAnswer: true, askAt: time.Second,
			otherKind: approve.KindNodeClient, wantAllowed: true, wantReviews: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSARServer()
			s.allowed.Store(tc.firstAnswer)
			clk := clocktesting.NewFakePassiveClock(start)
			a := approve.NewSARAuthorizer(s.client, approve.SAROptions{CacheTTL: new(ttl), Clock: clk})
			first := renewalCSR("system:nodes", "system:authenticated")
			if got, _, err := a.Authorize(ctx, first, approve.KindSelfNodeClient); err != nil || got != tc.firstAnswer {
				t.Fatalf("first Authorize = %v, %v", got, err)
			}
			if tc.revokeAfter {
				s.allowed.Store(false)
			}
			clk.SetTime(start.Add(tc.askAt))
			second, kind := first, approve.KindSelfNodeClient
			if tc.otherCSR != nil {
				second = tc.otherCSR
			}
			if tc.otherKind != "" {
				kind = tc.otherKind
			}
			got, reason, err := a.Authorize(ctx, second, kind)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.wantAllowed {
				t.Errorf("second Authorize = %v (%s), want %v", got, reason, tc.wantAllowed)
			}
			if n := s.count.Load(); n != tc.wantReviews {
				t.Errorf("%d SubjectAccessReviews sent, want %d", n, tc.wantReviews)
			}
		})
	}
}

func TestSARCacheDisabled(t *testing.T) {
	s := newSARServer()
	s.allowed.Store(true)
	a := approve.NewSARAuthorizer(s.client, approve.SAROptions{CacheTTL: new(time.Duration(0))})
	for range 3 {
		if _, _, err := a.Authorize(context.Background(), renewalCSR("g"), approve.KindNodeClient); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.count.Load(); n != 3 {
		t.Errorf("%d reviews with the cache off, want 3", n)
	}
}

// TestSARSingleFlight: identical questions asked while one review is in flight share it.
// The answer is a denial, which is never cached, so only the shared flight can explain a
// single review.
func TestSARSingleFlight(t *testing.T) {
	s := newSARServer()
	s.block = make(chan struct{})
	s.entered = make(chan struct{}, 100)
	a := approve.NewSARAuthorizer(s.client, approve.SAROptions{})
	const callers = 8
	var wg sync.WaitGroup
	results := make(chan bool, callers)
	ask := func() {
		defer wg.Done()
		allowed, _, err := a.Authorize(context.Background(), renewalCSR("g"), approve.KindNodeClient)
		if err != nil {
			t.Error(err)
		}
		results <- allowed
	}
	wg.Add(1)
	go ask()
	<-s.entered // the first review is in flight
	for range callers - 1 {
		wg.Add(1)
		go ask()
	}
	time.Sleep(200 * time.Millisecond) // let the others join the flight
	close(s.block)
	wg.Wait()
	close(results)
	for allowed := range results {
		if allowed {
			t.Error("a caller got allowed; the server denied")
		}
	}
	if n := s.count.Load(); n != 1 {
		t.Errorf("%d reviews for %d identical concurrent questions, want 1", n, callers)
	}
}

func BenchmarkSARCacheHit(b *testing.B) {
	s := newSARServer()
	s.allowed.Store(true)
	a := approve.NewSARAuthorizer(s.client, approve.SAROptions{CacheTTL: new(time.Hour)})
	obj := renewalCSR("system:nodes", "system:authenticated")
	ctx := context.Background()
	if _, _, err := a.Authorize(ctx, obj, approve.KindSelfNodeClient); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, _, err := a.Authorize(ctx, obj, approve.KindSelfNodeClient); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
	if n := s.count.Load(); n != 1 {
		b.Errorf("%d reviews, want 1", n)
	}
}
