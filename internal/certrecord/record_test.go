package certrecord

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func certFor(node string, notAfter time.Time, serialNumber int64) *x509.Certificate {
	return &x509.Certificate{Subject: pkix.Name{CommonName: "system:node:" + node}, NotBefore: notAfter.Add(-time.Hour), NotAfter: notAfter, SerialNumber: big.NewInt(serialNumber)}
}

func TestEncodeDecode(t *testing.T) {
	at := time.Unix(1_800_000_000, 0).UTC()
	e := Entry{Client: {NotAfter: at, Issued: at.Add(-time.Hour), Serial: "0A"}, Serving: {NotAfter: at.Add(time.Hour), Issued: at, Serial: "FF"}}
	s := encode(e)
	if s != "client=1800000000,1799996400,0A;serving=1800003600,1800000000,FF" {
		t.Errorf("encode = %q", s)
	}
	back, err := decode(s)
	if err != nil || len(back) != 2 || back[Client] != e[Client] || back[Serving] != e[Serving] {
		t.Errorf("decode(encode(e)) = %+v, %v", back, err)
	}
	for _, bad := range []string{"", "client=1,2", "other=1,2,3", "client=x,2,3"} {
		if _, err := decode(bad); err == nil {
			t.Errorf("decode(%q) accepted", bad)
		}
	}
}

// A later-expiring certificate replaces the known one, an older one does not, names
// outside system:node: are ignored; and a flush after a storm writes each shard once.
func TestObserveAndBatchedFlush(t *testing.T) {
	client := fake.NewClientset()
	var writes int
	client.PrependReactor("*", "configmaps", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetVerb() == "create" || a.GetVerb() == "update" {
			writes++
		}
		return false, nil, nil
	})
	r, err := New(client, Options{Namespace: "ns"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.load(context.Background()); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	r.Observe(Client, certFor("a", now, 1))
	r.Observe(Client, certFor("a", now.Add(-time.Hour), 2)) // older: ignored
	r.Observe(Client, certFor("a", now.Add(time.Hour), 3))  // newer: kept
	r.Observe(Client, &x509.Certificate{Subject: pkix.Name{CommonName: "alice"}, NotAfter: now, SerialNumber: big.NewInt(4)})
	if got := r.Snapshot(); len(got) != 1 || got["a"][Client].Serial != "3" {
		t.Fatalf("record %+v, want node a with serial 3 only", got)
	}
	for i := range 1000 {
		r.Observe(Serving, certFor(fmt.Sprintf("node-%d", i), now, int64(i+10)))
	}
	if err := r.flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if writes != Shards {
		t.Errorf("%d writes for 1001 nodes, want one per shard (%d)", writes, Shards)
	}
	stored, err := Read(context.Background(), client, "ns")
	if err != nil || len(stored) != 1001 || stored["a"][Client].Serial != "3" {
		t.Errorf("read back %d nodes (%v)", len(stored), err)
	}
	writes = 0
	if err := r.flush(context.Background()); err != nil || writes != 0 {
		t.Errorf("a flush with nothing new wrote %d times (%v)", writes, err)
	}
}
