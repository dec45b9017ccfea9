package certrecord

import (
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
)

// Metric names.
const (
	NodesMetric    = "tlsbootstrap_node_certificates"
	ExpiringMetric = "tlsbootstrap_node_certificates_expiring"
)

// collector exports the record as counts, never one series per node.
type collector struct {
	r        *Record
	horizons []time.Duration
	nodes    *prometheus.Desc
	expiring *prometheus.Desc
}

// Collector exports, per kind, how many nodes the record knows a certificate of
// (tlsbootstrap_node_certificates) and how many nodes' newest certificate expires within
// each of horizons, those already expired included
// (tlsbootstrap_node_certificates_expiring{within="1d"}).
func (r *Record) Collector(horizons []time.Duration) prometheus.Collector {
	return &collector{
		r:        r,
		horizons: slices.Clone(horizons),
		nodes:    prometheus.NewDesc(NodesMetric, "Nodes whose newest certificate of the kind (client, serving) the record knows.", []string{"kind"}, nil),
		expiring: prometheus.NewDesc(ExpiringMetric, "Nodes whose newest certificate of the kind expires within the horizon (expired ones included).", []string{"kind", "within"}, nil),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.nodes
	ch <- c.expiring
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	now := c.r.opts.Clock.Now()
	known := map[Kind]float64{}
	expiring := map[Kind][]float64{}
	for _, k := range Kinds() {
		expiring[k] = make([]float64, len(c.horizons))
	}
	c.r.mu.Lock()
	for _, e := range c.r.nodes {
		for k, cert := range e {
			known[k]++
			left := cert.NotAfter.Sub(now)
			for i, h := range c.horizons {
				if left < h {
					expiring[k][i]++
				}
			}
		}
	}
	c.r.mu.Unlock()
	for _, k := range Kinds() {
		ch <- prometheus.MustNewConstMetric(c.nodes, prometheus.GaugeValue, known[k], string(k))
		for i, h := range c.horizons {
			ch <- prometheus.MustNewConstMetric(c.expiring, prometheus.GaugeValue, expiring[k][i], string(k), model.Duration(h).String())
		}
	}
}
