package approving

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
	"github.com/tlsbootstrap/tlsbootstrap/internal/metrics"
)

// Metrics are the approval controller's Prometheus metrics.
type Metrics struct {
	// decisions counts decisions by kind (empty for ignores of no kind) and result
	// (approved, denied, ignored, error).
	decisions *prometheus.CounterVec
	// latency observes, for each CSR this process approves or denies, the time from the
	// CSR's creation to the decision being written.
	latency *prometheus.HistogramVec
	// servingViolations counts serving CSRs breaking a ServingRule, by rule and mode
	// (enforce: denied; audit: would have been denied).
	servingViolations *prometheus.CounterVec
}

// Results a decision counter is labelled with.
const (
	ResultApproved = "approved"
	ResultDenied   = "denied"
	ResultIgnored  = "ignored"
	ResultError    = "error"
)

// NewMetrics creates the metrics and registers them with reg:
// tlsbootstrap_approval_decisions_total{kind,result},
// tlsbootstrap_approval_latency_seconds{kind,result} and
// tlsbootstrap_serving_policy_violations_total{rule,mode}.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tlsbootstrap_approval_decisions_total",
			Help: "Approval decisions on CertificateSigningRequests by kind and result.",
		}, []string{"kind", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tlsbootstrap_approval_latency_seconds",
			Help:    "Time from a CertificateSigningRequest's creation to its approval or denial by this process.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 14), // 50ms .. ~7min
		}, []string{"kind", "result"}),
		servingViolations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tlsbootstrap_serving_policy_violations_total",
			Help: "Kubelet serving CSRs breaking a serving policy rule, by rule and mode (enforce: denied; audit: would have been denied).",
		}, []string{"rule", "mode"}),
	}
	if err := metrics.Register(reg, "approval", m.decisions, m.latency, m.servingViolations); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Metrics) observe(d approve.Decision, err error, sinceCreation time.Duration) {
	if m == nil {
		return
	}
	result := ResultIgnored
	switch {
	case err != nil:
		result = ResultError
	case d.Action == approve.ActionApprove:
		result = ResultApproved
	case d.Action == approve.ActionDeny:
		result = ResultDenied
	}
	m.decisions.WithLabelValues(string(d.Kind), result).Inc()
	if err == nil {
		var v *approve.ServingViolation
		if errors.As(d.Cause, &v) && d.Action == approve.ActionDeny {
			m.servingViolations.WithLabelValues(string(v.Rule), "enforce").Inc()
		}
		for _, a := range d.Audit {
			m.servingViolations.WithLabelValues(string(a.Rule), "audit").Inc()
		}
	}
	if err == nil && d.Action != approve.ActionIgnore {
		m.latency.WithLabelValues(string(d.Kind), result).Observe(sinceCreation.Seconds())
	}
}
