// Package backlog exports what the controller's CSR cache holds, for alerts on pile-ups
// and on requests nobody decides: CSRs by signer and state, and the age of the oldest
// pending one per signer. It reads the informer's cache at each scrape, so it costs no
// API request, and controller.Run registers it only while this replica leads, so a
// follower exports nothing rather than stale figures.
package backlog

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	certificatesv1 "k8s.io/api/certificates/v1"
	"k8s.io/apimachinery/pkg/labels"
	certlisters "k8s.io/client-go/listers/certificates/v1"
	"k8s.io/utils/clock"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// The states a CSR is counted in, one each.
const (
	StatePending           = "pending"
	StateApprovedNotIssued = "approved_not_issued"
	StateIssued            = "issued"
	StateDenied            = "denied"
	StateFailed            = "failed"
)

// states lists them in the order they are exported.
var states = []string{StatePending, StateApprovedNotIssued, StateIssued, StateDenied, StateFailed}

// OtherSigner is the signer label of every signer the controller does not serve, so the
// label stays bounded whatever requesters write in spec.signerName.
const OtherSigner = "other"

// Metric names.
const (
	CSRsMetric          = "tlsbootstrap_csrs"
	OldestPendingMetric = "tlsbootstrap_csr_oldest_pending_seconds"
)

// Collector is a prometheus.Collector over a CSR lister.
type Collector struct {
	lister  certlisters.CertificateSigningRequestLister
	signers []string
	clock   clock.PassiveClock
	csrs    *prometheus.Desc
	oldest  *prometheus.Desc
}

// NewCollector counts the CSRs lister holds. signers are the signer names exported by
// name; the rest are OtherSigner.
func NewCollector(lister certlisters.CertificateSigningRequestLister, signers []string, clk clock.PassiveClock) *Collector {
	return &Collector{
		lister:  lister,
		signers: slices.Clone(signers),
		clock:   clk,
		csrs: prometheus.NewDesc(CSRsMetric,
			"CSRs in the controller's cache by signer and state (pending, approved_not_issued, issued, denied, failed).",
			[]string{"signer", "state"}, nil),
		oldest: prometheus.NewDesc(OldestPendingMetric,
			"Age of the oldest pending CSR by signer (0 when none is pending).",
			[]string{"signer"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.csrs
	ch <- c.oldest
}

// Collect implements prometheus.Collector: one pass over the cache.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	objs, err := c.lister.List(labels.Everything())
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.csrs, err)
		return
	}
	labelsOf := append(slices.Clone(c.signers), OtherSigner)
	counts := map[string]map[string]float64{}
	oldest := map[string]float64{}
	for _, s := range labelsOf {
		counts[s] = map[string]float64{}
		oldest[s] = 0
	}
	now := c.clock.Now()
	for _, obj := range objs {
		signer := c.label(obj.Spec.SignerName)
		state := stateOf(obj)
		counts[signer][state]++
		if state == StatePending {
			if age := now.Sub(obj.CreationTimestamp.Time).Seconds(); age > oldest[signer] {
				oldest[signer] = age
			}
		}
	}
	for _, s := range labelsOf {
		for _, state := range states {
			ch <- prometheus.MustNewConstMetric(c.csrs, prometheus.GaugeValue, counts[s][state], s, state)
		}
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, oldest[s], s)
	}
}

func (c *Collector) label(signer string) string {
	if slices.Contains(c.signers, signer) {
		return signer
	}
	return OtherSigner
}

// stateOf puts a CSR in one state: a certificate wins (it was issued), then Failed,
// Denied, Approved, and Pending when nothing was decided.
func stateOf(obj *certificatesv1.CertificateSigningRequest) string {
	s := csr.StateOf(obj)
	switch {
	case s.Issued:
		return StateIssued
	case s.Failed:
		return StateFailed
	case s.Denied:
		return StateDenied
	case s.Approved:
		return StateApprovedNotIssued
	default:
		return StatePending
	}
}
