package controller

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/klog/v2"
)

func TestUnreachable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	gr := schema.GroupResource{Group: "certificates.k8s.io", Resource: "certificatesigningrequests"}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("Get \"https://127.0.0.1:6443\": %w", refused), true},
		{&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, true},
		{apierrors.NewServiceUnavailable("shutting down"), true},
		{apierrors.NewTooManyRequests("slow down", 1), true},
		{apierrors.NewInternalError(errors.New("etcdserver: request timed out")), true},
		{apierrors.NewUnauthorized("Unauthorized"), false},
		{apierrors.NewForbidden(gr, "", errors.New("no")), false},
		{apierrors.NewNotFound(gr, "x"), false},
		{errors.New("some bug"), false},
	} {
		if got := unreachable(tc.err); got != tc.want {
			t.Errorf("unreachable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestRetryUnreachable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, tc := range []struct {
		name     string
		failures int   // calls that fail with err before one succeeds; -1: all
		err      error // what the failing calls return
		calls    int   // calls expected
		wantErr  bool
		cancelIn time.Duration
	}{
		{name: "answers at once", failures: 0, calls: 1},
		{name: "refused three times, then answers", failures: 3, err: refused, calls: 4},
		{name: "401 is returned at once", failures: -1, err: apierrors.NewUnauthorized("no"), calls: 1, wantErr: true},
		{name: "refused until the context ends", failures: -1, err: refused, wantErr: true, cancelIn: 600 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancelIn > 0 {
				time.AfterFunc(tc.cancelIn, cancel)
			}
			calls := 0
			start := time.Now()
			v, err := retryUnreachable(ctx, klog.Background(), "list things", func(context.Context) (string, error) {
				calls++
				if tc.failures < 0 || calls <= tc.failures {
					return "", tc.err
				}
				return "answer", nil
			})
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && v != "answer" {
				t.Errorf("value %q, want answer", v)
			}
			if tc.calls > 0 && calls != tc.calls {
				t.Errorf("%d calls, want %d", calls, tc.calls)
			}
			if tc.cancelIn > 0 && (calls < 2 || time.Since(start) > tc.cancelIn+time.Second) {
				t.Errorf("%d calls in %s: want retries until the context ended", calls, time.Since(start))
			}
			// Delays double from reconnectInitial: three failures cost 250+500+1000ms.
			if tc.failures == 3 && time.Since(start) > 3*time.Second {
				t.Errorf("three retries took %s", time.Since(start))
			}
		})
	}
}
