package node

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
)

// TestWaitForServerKeepsTheServersError: when the wait times out while the token is still
// being rejected (the retry grace outlasts the wait), the error names the rejection, not
// whatever the expiring deadline made the last poll fail with (a rate limiter's or a
// context's error).
func TestWaitForServerKeepsTheServersError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`))
	}))
	defer srv.Close()
	client, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		ctx     func() (context.Context, context.CancelFunc)
		timeout time.Duration
	}{
		{"wait timeout", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, 1200 * time.Millisecond},
		{"caller's deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 1200*time.Millisecond)
		}, time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := tc.ctx()
			defer cancel()
			err := waitForServer(ctx, client, tc.timeout, time.Hour, klog.Background())
			if !errors.Is(err, ErrTokenRejected) {
				t.Fatalf("error %v, want %v", err, ErrTokenRejected)
			}
		})
	}
}
