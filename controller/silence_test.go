package controller_test

import (
	"context"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
)

// ourMessages are lines this module logs during a controller run and a node bootstrap.
var ourMessages = []string{"Starting CSR approving controller", "Starting CSR signing controller", "CSR decision", "Signed CSR", "controllers running",
	"requesting client certificate"}

// TestLoggerFromContext: everything the controller and the node bootstrap log goes to the
// context's logger, so logr.Discard() in the context silences it, and nothing of ours
// reaches klog's global output (client-go's own klog lines may).
func TestLoggerFromContext(t *testing.T) {
	global := captureKlog(t)
	var recorded testenv.SyncBuffer
	rec := funcr.New(func(prefix, args string) { _, _ = recorded.Write([]byte(prefix + " " + args + "\n")) }, funcr.Options{Verbosity: 2})
	for _, tc := range []struct {
		name   string
		logger logr.Logger
	}{{"discard", logr.Discard()}, {"recording", rec}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(logr.NewContext(context.Background(), tc.logger), time.Minute)
			defer cancel()
			runCtx, stop := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() {
				done <- controller.Run(runCtx, cp.Client(), controller.Options{ClusterSigningCA: cp.CA.Signing(), SigningDuration: time.Hour})
			}()
			bootstrapNode(ctx, t, "silent-"+tc.name)
			if tc.name == "recording" {
				// The signer logs after its write, which the node may see first.
				_ = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
					return strings.Contains(recorded.String(), "Signed CSR"), nil
				})
			}
			stop()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
	klog.Flush()
	for _, msg := range ourMessages {
		if strings.Contains(global.String(), msg) {
			t.Errorf("%q reached klog's global output", msg)
		}
		if !strings.Contains(recorded.String(), msg) {
			t.Errorf("%q did not reach the context's logger", msg)
		}
	}
}

// captureKlog sends klog's global output to a buffer until the test ends.
func captureKlog(t *testing.T) *testenv.SyncBuffer {
	t.Helper()
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	for name, v := range map[string]string{"logtostderr": "false", "alsologtostderr": "false", "stderrthreshold": "FATAL", "v": "4"} {
		if err := fs.Set(name, v); err != nil {
			t.Fatal(err)
		}
	}
	buf := &testenv.SyncBuffer{}
	klog.SetOutput(buf)
	t.Cleanup(func() {
		klog.Flush()
		klog.SetOutput(nil)
		_ = fs.Set("logtostderr", "true")
		_ = fs.Set("v", "0")
	})
	return buf
}
