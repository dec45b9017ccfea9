package signing

import (
	"crypto/x509"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tlsbootstrap/tlsbootstrap/internal/metrics"
)

// Metrics are the signing controller's Prometheus metrics.
type Metrics struct {
	signed   *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	lifetime *prometheus.HistogramVec
	caExpiry *prometheus.GaugeVec
}

// Metric result label values of tlsbootstrap_signed_certificates_total.
const (
	resultSigned = "signed"
	resultFailed = "failed"
	resultError  = "error"
)

// NewMetrics creates the metrics and registers them with reg:
//   - tlsbootstrap_signed_certificates_total{signer,result}: signing attempts by result
//     (signed, failed = SignerValidationFailure, error = transient, retried);
//   - tlsbootstrap_issuance_latency_seconds{signer}: from CSR creation to issuance;
//   - tlsbootstrap_issued_certificate_lifetime_seconds{signer}: NotAfter − NotBefore;
//   - tlsbootstrap_signing_ca_expiry_timestamp_seconds{signer}: the signing CA's NotAfter
//     (Unix time), for alerts before the CA expires.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		signed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tlsbootstrap_signed_certificates_total",
			Help: "Certificate signing attempts by signer and result (signed, failed, error).",
		}, []string{"signer", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tlsbootstrap_issuance_latency_seconds",
			Help:    "Time from CSR creation to certificate issuance.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 16),
		}, []string{"signer"}),
		lifetime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tlsbootstrap_issued_certificate_lifetime_seconds",
			Help: "Lifetime (NotAfter - NotBefore) of issued certificates.",
			Buckets: []float64{
				(15 * time.Minute).Seconds(), time.Hour.Seconds(), (8 * time.Hour).Seconds(),
				(24 * time.Hour).Seconds(), (7 * 24 * time.Hour).Seconds(), (30 * 24 * time.Hour).Seconds(),
				(90 * 24 * time.Hour).Seconds(), (365 * 24 * time.Hour).Seconds(),
			},
		}, []string{"signer"}),
		caExpiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tlsbootstrap_signing_ca_expiry_timestamp_seconds",
			Help: "NotAfter of the CA that signed last, as a Unix time.",
		}, []string{"signer"}),
	}
	if err := metrics.Register(reg, "signing", m.signed, m.latency, m.lifetime, m.caExpiry); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Metrics) observeSigned(signer string, created, now time.Time, cert, ca *x509.Certificate) {
	if m == nil {
		return
	}
	m.signed.WithLabelValues(signer, resultSigned).Inc()
	if !created.IsZero() {
		m.latency.WithLabelValues(signer).Observe(now.Sub(created).Seconds())
	}
	if cert != nil {
		m.lifetime.WithLabelValues(signer).Observe(cert.NotAfter.Sub(cert.NotBefore).Seconds())
	}
	if ca != nil {
		m.caExpiry.WithLabelValues(signer).Set(float64(ca.NotAfter.Unix()))
	}
}

func (m *Metrics) observe(signer, result string) {
	if m == nil {
		return
	}
	m.signed.WithLabelValues(signer, result).Inc()
}
