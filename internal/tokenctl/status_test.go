package tokenctl_test

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/internal/certrecord"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

func TestStatus(t *testing.T) {
	clusterCA, err := sign.LoadCA(cp.CACertFile, cp.CAKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	names, _ := submitCSRs(t, []string{"status-year", "status-hour", "status-expired", "status-pending"},
		[]*int32{nil, csr.DurationSeconds(time.Hour), csr.DurationSeconds(time.Hour), nil})
	signWith(t, names[0], clusterCA, clock.RealClock{})
	signWith(t, names[1], clusterCA, clock.RealClock{})
	signWith(t, names[2], clusterCA, testingclock.NewFakePassiveClock(time.Now().Add(-48*time.Hour)))

	for _, tc := range []struct {
		name  string
		flags []string
		want  map[string]string // node -> STATUS; absent nodes must not be listed
	}{
		{"default threshold", nil, map[string]string{"status-year": "OK", "status-hour": "EXPIRING", "status-expired": "EXPIRED"}},
		{"short threshold", []string{"--expiring-within=30m"}, map[string]string{"status-year": "OK", "status-hour": "OK", "status-expired": "EXPIRED"}},
		{"long threshold", []string{"--expiring-within=9000h"}, map[string]string{"status-year": "EXPIRING", "status-hour": "EXPIRING", "status-expired": "EXPIRED"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := mustRun(t, append([]string{"status", admin()}, tc.flags...)...)
			lines := strings.Split(out, "\n")
			if got := strings.Join(strings.Fields(lines[0]), " "); got != "NODE KIND EXPIRES IN STATUS RENEWED SERIAL SOURCE" {
				t.Errorf("header %q", got)
			}
			seen := map[string]string{}
			for _, l := range lines[1:] {
				if f := strings.Fields(l); len(f) == 9 && strings.HasPrefix(f[0], "status-") && f[1] == "client" {
					seen[f[0]] = f[4]
				}
			}
			for node, status := range tc.want {
				if seen[node] != status {
					t.Errorf("%s: status %q, want %q\n%s", node, seen[node], status, out)
				}
			}
			if _, ok := seen["status-pending"]; ok {
				t.Errorf("a node without an issued certificate is listed:\n%s", out)
			}
		})
	}
	if _, err := run(t, "status", admin(), "--expiring-within=0s"); err == nil || !strings.Contains(err.Error(), "must be positive") {
		t.Errorf("--expiring-within=0s: %v", err)
	}
}

// TestStatusFromRecord: with the issued CSRs gone (as after the cleaner), status shows
// what the nodecertificates controller recorded, serving certificates too, and a Node
// nobody has a certificate for as UNKNOWN, soonest expiry first.
func TestStatusFromRecord(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := testenv.Namespace(t, cp.Client(), "status-record-")
	record, err := certrecord.New(cp.Client(), certrecord.Options{Namespace: ns, FlushInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	soon, later := time.Now().Add(2*time.Hour), time.Now().Add(90*24*time.Hour)
	record.Observe(certrecord.Serving, &x509.Certificate{Subject: pkix.Name{CommonName: "system:node:status-recorded"}, NotBefore: soon.Add(-24 * time.Hour), NotAfter: soon, SerialNumber: big.NewInt(0xabc)})
	record.Observe(certrecord.Client, &x509.Certificate{Subject: pkix.Name{CommonName: "system:node:status-recorded"}, NotBefore: time.Now(), NotAfter: later, SerialNumber: big.NewInt(0xdef)})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- record.Run(runCtx) }()
	time.Sleep(500 * time.Millisecond)
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	node, err := cp.Client().CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "status-unknown"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cp.Client().CoreV1().Nodes().Delete(context.Background(), node.Name, metav1.DeleteOptions{})
	}()

	out := mustRun(t, "status", admin(), "--record-namespace="+ns, "--expiring-within=24h")
	var order []string
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && (f[0] == "status-recorded" || f[0] == "status-unknown") {
			order = append(order, f[0]+"/"+f[1]+"/"+f[4])
		}
	}
	want := []string{"status-recorded/serving/EXPIRING", "status-recorded/client/OK", "status-unknown/client/UNKNOWN", "status-unknown/serving/UNKNOWN"}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Errorf("rows %v, want %v\n%s", order, want, out)
	}
	if !strings.Contains(out, "ABC") || !strings.Contains(out, "record") {
		t.Errorf("the serving row lacks its serial or its source:\n%s", out)
	}
}
