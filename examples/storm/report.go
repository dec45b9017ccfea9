package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// report is the whole run: its rows and their ratios.
type report struct {
	Nodes       int `json:"nodes"`
	Concurrency int `json:"concurrency"`
	// ControllerQPS and ControllerBurst are the tlsbootstrap controller's client limits.
	ControllerQPS   float32   `json:"controllerQPS"`
	ControllerBurst int       `json:"controllerBurst"`
	Started         time.Time `json:"started"`
	Rows            []row     `json:"rows"`
	Ratios          []ratio   `json:"ratios"`
}

// row is one controller (or the limit) in one wave.
type row struct {
	Name        string  `json:"name"`
	Wave        string  `json:"wave"`
	Nodes       int     `json:"nodes"`
	WallSeconds float64 `json:"wallSeconds"`
	// PerSecond is certificates issued per second (objects per second for the limit).
	PerSecond float64 `json:"certificatesPerSecond"`
	Approval  latency `json:"creationToApproval"`
	Issuance  latency `json:"creationToIssuance"`
	// RequestsPerCSR is the controller's rest_client_requests_total during the wave per
	// node; Requests breaks it down by "METHOD code".
	RequestsPerCSR *float64           `json:"requestsPerCSR,omitempty"`
	Requests       map[string]float64 `json:"requests,omitempty"`
	CPUSeconds     float64            `json:"cpuSeconds"`
	// CPUMillisPerCert is the controller's CPU time during the wave per certificate.
	CPUMillisPerCert float64 `json:"cpuMillisecondsPerCertificate,omitempty"`
	PeakRSSMiB       float64 `json:"peakRSSMiB"`
	Measured         string  `json:"measured"`
}

// latency is a distribution in seconds.
type latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// waveRestart names the row of a restarted controller (--restart): NODES holds the CSRs in
// the cluster and WALL its time to ready.
const waveRestart = "restart"

// ratio compares tlsbootstrap's row of a wave with a target.
type ratio struct {
	Wave  string  `json:"wave"`
	Check string  `json:"check"`
	Value float64 `json:"value"`
	// Target is empty for a figure shown without a target.
	Target string `json:"target"`
	Pass   bool   `json:"pass"`
}

func (r *row) setThroughput(wall time.Duration) {
	r.WallSeconds = wall.Seconds()
	if wall > 0 {
		r.PerSecond = float64(r.Nodes) / wall.Seconds()
	}
}

// summarize is the nearest-rank p50, p90, p99 and max of ds.
func summarize(ds []time.Duration) latency {
	if len(ds) == 0 {
		return latency{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(p float64) float64 {
		i := int(p*float64(len(s))+0.999999) - 1
		i = max(0, min(i, len(s)-1))
		return s[i].Seconds()
	}
	return latency{P50: rank(0.50), P90: rank(0.90), P99: rank(0.99), Max: s[len(s)-1].Seconds()}
}

func (rep *report) find(name, wave string) *row {
	for i := range rep.Rows {
		if rep.Rows[i].Name == name && rep.Rows[i].Wave == wave {
			return &rep.Rows[i]
		}
	}
	return nil
}

// computeRatios checks the targets for each wave tlsbootstrap ran: against the oracle
// (the CSR flow's ceiling), kube-controller-manager and the ConfigMap writes.
func (rep *report) computeRatios() {
	writes := rep.find(rowConfigMapWrites, waveRawWrites)
	if rs := rep.find(controllerTLSBootstrap, waveRestart); rs != nil && rs.PeakRSSMiB > 0 {
		defer func() {
			rep.Ratios = append(rep.Ratios, ratio{Wave: waveRestart, Check: fmt.Sprintf("controller peak RSS MiB (start with %d CSRs in the cluster)", rs.Nodes),
				Value: rs.PeakRSSMiB, Target: "≤ 100 (at 10,000 CSRs)", Pass: rs.PeakRSSMiB <= 100})
		}()
	}
	for _, wave := range []string{"join", "renew"} {
		tb := rep.find(controllerTLSBootstrap, wave)
		if tb == nil {
			continue
		}
		add := func(check string, value float64, target string, pass bool) {
			rep.Ratios = append(rep.Ratios, ratio{Wave: wave, Check: check, Value: value, Target: target, Pass: pass})
		}
		if or := rep.find(controllerOracle, wave); or != nil && or.PerSecond > 0 {
			v := tb.PerSecond / or.PerSecond
			add("certificates/s vs the oracle", v, "≥ 0.90", v >= 0.9)
			if or.Issuance.P99 > 0 {
				p := tb.Issuance.P99 / or.Issuance.P99
				add("p99 creation→issuance vs the oracle (×)", p, "≤ 1.1", p <= 1.1)
			}
		}
		if kt := rep.find("kcm tuned", wave); kt != nil && kt.CPUMillisPerCert > 0 && tb.CPUMillisPerCert > 0 {
			v := tb.CPUMillisPerCert / kt.CPUMillisPerCert
			add("controller CPU per certificate vs kcm tuned (×)", v, "≤ 0.5", v <= 0.5)
		}
		if kd := rep.find("kcm default", wave); kd != nil && kd.PerSecond > 0 {
			v := tb.PerSecond / kd.PerSecond
			add("certificates/s vs kcm default (×)", v, "≥ 5", v >= 5)
			if kd.Issuance.P99 > 0 {
				p := tb.Issuance.P99 / kd.Issuance.P99
				add("p99 creation→issuance vs kcm default", p, "≤ 0.333", p <= 1.0/3)
			}
		}
		if kt := rep.find("kcm tuned", wave); kt != nil && kt.PerSecond > 0 {
			v := tb.PerSecond / kt.PerSecond
			add("certificates/s vs kcm tuned (×)", v, "≥ 1.5", v >= 1.5)
		}
		if writes != nil && writes.PerSecond > 0 {
			// Not a ceiling (it leaves out what a CSR costs the API server): shown, not judged.
			add("certificates/s vs the ConfigMap writes", tb.PerSecond/writes.PerSecond, "", true)
		}
		if tb.RequestsPerCSR != nil {
			// The two writes, at most one SubjectAccessReview (a renewal's node is a new
			// requester each time), and Events within their budget.
			target, limit := "≤ 3.1", 3.1
			if or := rep.find(controllerOracle, wave); or != nil && or.RequestsPerCSR != nil {
				limit = *or.RequestsPerCSR + 1.1
				target = fmt.Sprintf("≤ the oracle's %.2f + 1.1", *or.RequestsPerCSR)
			}
			add("controller API requests per CSR", *tb.RequestsPerCSR, target, *tb.RequestsPerCSR <= limit)
		}
		if tb.PeakRSSMiB > 0 {
			add(fmt.Sprintf("controller peak RSS MiB (%d CSRs in the cluster)", rep.cumulativeCSRs(wave)), tb.PeakRSSMiB, "≤ 100 (at 10,000 CSRs)", tb.PeakRSSMiB <= 100)
		}
	}
}

// cumulativeCSRs counts the CSRs in the cluster after a wave (plus the warm-up one).
func (rep *report) cumulativeCSRs(wave string) int {
	if wave == "renew" {
		return 2*rep.Nodes + 1
	}
	return rep.Nodes + 1
}

func (rep *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

func (rep *report) writeTable(w io.Writer) {
	fmt.Fprintf(w, "storm: %d nodes, concurrency %d, started %s\n\n", rep.Nodes, rep.Concurrency, rep.Started.Format(time.RFC3339))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "ROW\tWAVE\tNODES\tWALL s\tCERTS/s\tAPPROVE p50/p90/p99/max s\tISSUE p50/p90/p99/max s\tREQ/1k CERTS\tCPU ms/CERT\tCPU s\tPEAK RSS MiB\t")
	for _, r := range rep.Rows {
		req, perCert, cpu, rss := "-", "-", "-", "-"
		if r.RequestsPerCSR != nil {
			req = fmt.Sprintf("%.0f", 1000**r.RequestsPerCSR)
		}
		if r.PeakRSSMiB > 0 {
			cpu, rss = fmt.Sprintf("%.2f", r.CPUSeconds), fmt.Sprintf("%.1f", r.PeakRSSMiB)
		}
		if r.CPUMillisPerCert > 0 {
			perCert = fmt.Sprintf("%.2f", r.CPUMillisPerCert)
		}
		rate, approval, issuance := fmt.Sprintf("%.1f", r.PerSecond), r.Approval.String(), r.Issuance.String()
		if r.Wave == waveRestart { // no certificates: NODES counts the CSRs present, WALL the time to ready
			rate, approval, issuance, req = "-", "-", "-", "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Name, r.Wave, r.Nodes, r.WallSeconds, rate,
			approval, issuance, req, perCert, cpu, rss)
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "\noracle: a controller process that knows every certificate in advance and only writes the approval and the")
	fmt.Fprintln(w, "certificate: the CSR flow's ceiling. configmap writes: ConfigMap create + 2 updates per node, the API server's")
	fmt.Fprintln(w, "write path alone (APPROVE = create→1st update, ISSUE = create→2nd update). Every row submits the same keys and CSRs,")
	fmt.Fprintln(w, "made before the clock starts. CPU and RSS: each controller is its own process, read from /proc/<pid>/stat")
	fmt.Fprintf(w, "(CPU during the wave) and status (VmHWM); tlsbootstrap and the oracle use client QPS %g/burst %d.\n", rep.ControllerQPS, rep.ControllerBurst)
	fmt.Fprintln(w, "REQ/1k CERTS: the controller's own rest_client_requests_total during the wave, per 1,000 certificates.")
	for _, r := range rep.Rows {
		if len(r.Requests) > 0 {
			fmt.Fprintf(w, "  %s %s requests: %s\n", r.Name, r.Wave, formatCounts(r.Requests))
		}
	}
	if len(rep.Ratios) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "WAVE\tCHECK (tlsbootstrap)\tVALUE\tTARGET\tRESULT")
		for _, r := range rep.Ratios {
			result, target := "FAIL", r.Target
			switch {
			case r.Target == "":
				result, target = "-", "-"
			case r.Pass:
				result = "ok"
			}
			fmt.Fprintf(tw, "%s\t%s\t%.3g\t%s\t%s\n", r.Wave, r.Check, r.Value, target, result)
		}
		_ = tw.Flush()
	}
}

func (l latency) String() string {
	return fmt.Sprintf("%.2f/%.2f/%.2f/%.2f", l.P50, l.P90, l.P99, l.Max)
}

func formatCounts(m map[string]float64) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%.0f", k, m[k])
	}
	return strings.Join(parts, ", ")
}
