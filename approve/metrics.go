package approve

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the approval controller's Prometheus metrics.
type Metrics struct {
	// Decisions counts decisions by kind (empty for ignores of no kind) and result
	// (approved, denied, ignored, error).
	Decisions *prometheus.CounterVec
	// Latency observes, for each CSR this process approves or denies, the time from the
	// CSR's creation to the decision being written.
	Latency *prometheus.HistogramVec
	// ServingViolations counts serving CSRs breaking a ServingRule, by rule and mode
	// (enforce: denied; audit: would have been denied).
	ServingViolations *prometheus.CounterVec
}

// Results a decision counter is labelled with.
const (
	resultApproved = "approved"
	resultDenied   = "denied"
	resultIgnored  = "ignored"
	resultError    = "error"
)

// NewMetrics creates the metrics and registers them with reg:
// tlsbootstrap_approval_decisions_total{kind,result},
// tlsbootstrap_approval_latency_seconds{kind,result} and
// tlsbootstrap_serving_policy_violations_total{rule,mode}.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		Decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tlsbootstrap_approval_decisions_total",
			Help: "Approval decisions on CertificateSigningRequests by kind and result.",
		}, []string{"kind", "result"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tlsbootstrap_approval_latency_seconds",
			Help:    "Time from a CertificateSigningRequest's creation to its approval or denial by this process.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 14), // 50ms .. ~7min
		}, []string{"kind", "result"}),
		ServingViolations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tlsbootstrap_serving_policy_violations_total",
			Help: "Kubelet serving CSRs breaking a serving policy rule, by rule and mode (enforce: denied; audit: would have been denied).",
		}, []string{"rule", "mode"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.Decisions, m.Latency, m.ServingViolations} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("registering approval metrics: %w", err)
			}
		}
	}
	return m, nil
}

func (m *Metrics) observe(d Decision, err error, sinceCreation time.Duration) {
	if m == nil {
		return
	}
	result := resultIgnored
	switch {
	case err != nil:
		result = resultError
	case d.Action == ActionApprove:
		result = resultApproved
	case d.Action == ActionDeny:
		result = resultDenied
	}
	m.Decisions.WithLabelValues(string(d.Kind), result).Inc()
	if err == nil {
		var v *ServingViolation
		if errors.As(d.Cause, &v) && d.Action == ActionDeny {
			m.ServingViolations.WithLabelValues(string(v.Rule), "enforce").Inc()
		}
		for _, a := range d.Audit {
			m.ServingViolations.WithLabelValues(string(a.Rule), "audit").Inc()
		}
	}
	if err == nil && d.Action != ActionIgnore {
		m.Latency.WithLabelValues(string(d.Kind), result).Observe(sinceCreation.Seconds())
	}
}
