package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// csrTimes are when the observer first saw a CSR, its approval and its certificate.
// Watch timestamps, not the conditions' lastUpdateTime: those have whole seconds.
type csrTimes struct {
	created, approved, issued time.Time
}

// observer watches every CSR and timestamps what happens to them.
type observer struct {
	mu    sync.Mutex
	times map[string]*csrTimes
}

// startObserver runs a CSR informer until ctx ends and waits for its first list.
func startObserver(ctx context.Context, client kubernetes.Interface) (*observer, error) {
	o := &observer{times: map[string]*csrTimes{}}
	factory := informers.NewSharedInformerFactory(client, 0)
	inf := factory.Certificates().V1().CertificateSigningRequests().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { o.see(obj) },
		UpdateFunc: func(_, obj any) { o.see(obj) },
	}); err != nil {
		return nil, err
	}
	factory.Start(ctx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return nil, fmt.Errorf("watching %v: cache did not sync", typ)
		}
	}
	return o, nil
}

func (o *observer) see(obj any) {
	c, ok := obj.(*certificatesv1.CertificateSigningRequest)
	if !ok {
		return
	}
	now := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	t := o.times[c.Name]
	if t == nil {
		t = &csrTimes{created: now}
		o.times[c.Name] = t
	}
	st := csr.StateOf(c)
	if t.approved.IsZero() && st.Approved {
		t.approved = now
	}
	if t.issued.IsZero() && st.Issued {
		t.issued = now
	}
}

// latencies are creation→approval and creation→issuance of the named CSRs; a CSR whose
// events the watch has not all delivered yet is waited for up to a few seconds.
func (o *observer) latencies(ctx context.Context, names []string) (approval, issuance []time.Duration, err error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		approval, issuance = approval[:0], issuance[:0]
		missing := ""
		o.mu.Lock()
		for _, n := range names {
			t := o.times[n]
			if t == nil || t.approved.IsZero() || t.issued.IsZero() {
				missing = n
				break
			}
			approval = append(approval, t.approved.Sub(t.created))
			issuance = append(issuance, t.issued.Sub(t.created))
		}
		o.mu.Unlock()
		if missing == "" {
			return approval, issuance, nil
		}
		if time.Now().After(deadline) {
			return nil, nil, fmt.Errorf("the watch never saw CSR %s approved and issued", missing)
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
