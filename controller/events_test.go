package controller

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	certificatesv1 "k8s.io/api/certificates/v1"
	"k8s.io/client-go/tools/record"
)

func TestEventBudget(t *testing.T) {
	for _, tc := range []struct {
		name        string
		opts        Options
		events      int
		wantWritten int
	}{
		{name: "within the burst", opts: Options{EventQPS: 1, EventBurst: 10}, events: 10, wantWritten: 10},
		{name: "beyond the burst", opts: Options{EventQPS: 0.001, EventBurst: 10}, events: 25, wantWritten: 10},
		{name: "no budget", opts: Options{UnlimitedEvents: true}, events: 25, wantWritten: 25},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := record.NewFakeRecorder(100)
			reg := prometheus.NewRegistry()
			rec, err := newBudgetRecorder(fake, tc.opts, reg)
			if err != nil {
				t.Fatal(err)
			}
			obj := &certificatesv1.CertificateSigningRequest{}
			for i := range tc.events {
				switch i % 3 {
				case 0:
					rec.Event(obj, "Normal", "AutoApproved", "approved")
				case 1:
					rec.Eventf(obj, "Normal", "Signed", "issued %d", i)
				default:
					rec.AnnotatedEventf(obj, nil, "Warning", "SigningFailed", "refused %d", i)
				}
			}
			if got := len(fake.Events); got != tc.wantWritten {
				t.Errorf("%d events written, want %d", got, tc.wantWritten)
			}
			if tc.opts.UnlimitedEvents {
				return
			}
			if got := droppedEvents(t, reg); int(got) != tc.events-tc.wantWritten {
				t.Errorf("tlsbootstrap_events_dropped_total = %v, want %d", got, tc.events-tc.wantWritten)
			}
		})
	}
}

func droppedEvents(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	n, ok := testenv.Metric(t, reg, "tlsbootstrap_events_dropped_total", nil)
	if !ok {
		t.Fatal("tlsbootstrap_events_dropped_total is not registered")
	}
	return n
}
