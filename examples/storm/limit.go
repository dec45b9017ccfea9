package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// The ConfigMap-writes row: what the API server does for three plain writes per node.
// It leaves out what every CSR costs whatever the controller does (parsing and
// validating the request, the node's watch, the subresources): the oracle row is the
// CSR flow's ceiling; this one shows the API server's write path alone.
const (
	rowConfigMapWrites = "configmap writes"
	waveRawWrites      = "create+2 updates"
)

// measureLimit is the API server's raw write throughput for three writes per simulated
// node: create a small object and update it twice (a CSR is created, approved and
// issued), concurrency at a time, on a fresh cluster. Its "approval" latency is
// create→first update, its "issuance" create→second update.
func measureLimit(ctx context.Context, f *flags) (row, error) {
	r := row{Name: rowConfigMapWrites, Wave: waveRawWrites, Nodes: f.nodes, Measured: "API server only"}
	c, err := newCluster(f)
	if err != nil {
		return r, err
	}
	defer c.close()
	client, err := c.adminClient()
	if err != nil {
		return r, err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "storm-limit-"}}
	ns, err = client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	if err != nil {
		return r, fmt.Errorf("creating the limit's namespace: %w", err)
	}
	defer func() {
		_ = client.CoreV1().Namespaces().Delete(context.WithoutCancel(ctx), ns.Name, metav1.DeleteOptions{})
	}()

	first := make([]time.Duration, f.nodes)
	second := make([]time.Duration, f.nodes)
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(f.concurrency)
	start := time.Now()
	for i := range f.nodes {
		g.Go(func() error {
			d1, d2, err := writeThree(gctx, client, ns.Name, fmt.Sprintf("storm-node-%05d", i))
			if err != nil {
				return err
			}
			mu.Lock()
			first[i], second[i] = d1, d2
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return r, err
	}
	r.setThroughput(time.Since(start))
	r.Approval, r.Issuance = summarize(first), summarize(second)
	return r, nil
}

// writeThree creates a ConfigMap about the size of a CSR and updates it twice.
func writeThree(ctx context.Context, client kubernetes.Interface, ns, name string) (toFirst, toSecond time.Duration, err error) {
	cms := client.CoreV1().ConfigMaps(ns)
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Data:       map[string]string{"request": fakePEM(600), "state": "pending"},
	}
	cm, err = cms.Create(ctx, cm, metav1.CreateOptions{})
	if err != nil {
		return 0, 0, fmt.Errorf("limit: creating ConfigMap %s: %w", name, err)
	}
	created := time.Now()
	for step := range 2 {
		cm.Data["state"] = "step-" + strconv.Itoa(step)
		if step == 1 {
			cm.Data["certificate"] = fakePEM(700)
		}
		if cm, err = cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			return 0, 0, fmt.Errorf("limit: updating ConfigMap %s: %w", name, err)
		}
		if step == 0 {
			toFirst = time.Since(created)
		}
	}
	return toFirst, time.Since(created), nil
}

// fakePEM is n bytes of text, about what a PEM request or certificate weighs.
func fakePEM(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'A' + byte(i%26)
	}
	return string(b)
}
