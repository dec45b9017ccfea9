package controller_test

import (
	"context"

	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/internal/certrecord"
	"github.com/tlsbootstrap/tlsbootstrap/internal/csrtest"
	"github.com/tlsbootstrap/tlsbootstrap/internal/serial"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
)

// TestNodeCertificateRecord: the nodecertificates controller records a node's client and
// serving certificates in ConfigMaps, exports counts by expiry horizon, and still knows
// them after the issued CSRs are deleted (as the cleaner does) and the controller restarts.
func TestNodeCertificateRecord(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ns := testenv.Namespace(t, cp.Client(), "certrecord-")
	opts := func() controller.Options {
		o := controller.Options{
			Controllers:              []string{controller.CSRApproving, controller.CSRSigning, controller.NodeCertificates},
			NodeCertificateNamespace: ns,
			ExpiryHorizons:           []time.Duration{24 * time.Hour, 9000 * time.Hour},
		}
		controller.SetRecordFlush(&o, 200*time.Millisecond)
		return o
	}
	reg, stop := startController(t, opts())

	const node = "record-node"
	res := bootstrapNode(ctx, t, node)
	// Its serving certificate, approved by the admin and signed by the controller.
	key := csrtest.NewKey(t)
	serving := csrtest.Create(t, cp.Client(), csrtest.Object(csrtest.UniqueName(t), certificatesv1.KubeletServingSignerName,
		csrtest.Request{CN: csr.NodeUserPrefix + node, Orgs: []string{csr.NodesGroup}, DNS: []string{node}}.PEM(t, key),
		[]certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth}, nil))
	csrtest.SetCondition(t, cp.Client(), serving, certificatesv1.CertificateApproved)

	var stored map[string]certrecord.Entry
	csrtest.WaitFor(t, "the record to hold the node's client and serving certificates", func() bool {
		var err error
		stored, err = certrecord.Read(ctx, cp.Client(), ns)
		e := stored[node]
		return err == nil && e[certrecord.Client].Serial != "" && e[certrecord.Serving].Serial != ""
	})
	client := stored[node][certrecord.Client]
	if client.Serial != serial.Hex(res.Certificate.SerialNumber) || !client.NotAfter.Equal(res.Certificate.NotAfter.Truncate(time.Second)) {
		t.Errorf("recorded client certificate %+v, want serial %s expiring %s", client, serial.Hex(res.Certificate.SerialNumber), res.Certificate.NotAfter)
	}
	if since := time.Since(client.Issued); since < 0 || since > time.Minute {
		t.Errorf("recorded issue time %s, want about now", client.Issued)
	}
	// The gauges count every node of the (shared) cluster: compare them with what the
	// stored record says, and make sure this node is among them.
	counts := func(reg *prometheus.Registry) map[string]float64 {
		value := func(name string, labels ...string) float64 {
			v, _ := metric(t, reg, name, labels...)
			return v
		}
		return map[string]float64{
			"client":       value(certrecord.NodesMetric, "kind", "client"),
			"serving":      value(certrecord.NodesMetric, "kind", "serving"),
			"client 1d":    value(certrecord.ExpiringMetric, "kind", "client", "within", "1d"),
			"client 375d":  value(certrecord.ExpiringMetric, "kind", "client", "within", "375d"),
			"serving 375d": value(certrecord.ExpiringMetric, "kind", "serving", "within", "375d"),
		}
	}
	expected := func() map[string]float64 {
		stored, err := certrecord.Read(ctx, cp.Client(), ns)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]float64{}
		for _, e := range stored {
			for kind, c := range e {
				want[string(kind)]++
				left := time.Until(c.NotAfter)
				if left < 24*time.Hour {
					want[string(kind)+" 1d"]++
				}
				if left < 9000*time.Hour {
					want[string(kind)+" 375d"]++
				}
			}
		}
		delete(want, "serving 1d")
		return want
	}
	agree := func(reg *prometheus.Registry) bool {
		got, want := counts(reg), expected()
		for k, v := range got {
			if want[k] != v {
				return false
			}
		}
		// This node's client certificate lasts the signing duration (a year): counted
		// within 375d, not within 1d.
		return want["client 375d"] >= 1 && want["serving 375d"] >= 1
	}
	csrtest.WaitFor(t, "the expiry gauges to agree with the stored record", func() bool { return agree(reg) })

	// The cleaner deletes issued CSRs; the controller restarts.
	for _, name := range []string{res.CSRName, serving.Name} {
		if err := cp.Client().CertificatesV1().CertificateSigningRequests().Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	_ = stop()
	reg2, _ := startController(t, opts())
	csrtest.WaitFor(t, "the restarted controller's gauges to agree with the record", func() bool { return agree(reg2) })
	if got, err := certrecord.Read(ctx, cp.Client(), ns); err != nil || got[node][certrecord.Client] != client {
		t.Errorf("after the restart the record holds %+v (%v), want %+v", got[node], err, client)
	}
}
