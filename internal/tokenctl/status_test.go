package tokenctl_test

import (
	"strings"
	"testing"
	"time"

	"k8s.io/utils/clock"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
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
			if got := strings.Join(strings.Fields(lines[0]), " "); got != "NODE EXPIRES IN STATUS SERIAL CSR" {
				t.Errorf("header %q", got)
			}
			seen := map[string]string{}
			for _, l := range lines[1:] {
				if f := strings.Fields(l); len(f) == 6 && strings.HasPrefix(f[0], "status-") {
					seen[f[0]] = f[3]
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
