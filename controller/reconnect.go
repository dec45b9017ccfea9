package controller

import (
	"context"
	"errors"
	"io"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
)

// Retries of an informer's list or watch while the API server cannot answer. client-go's
// reflector answers such errors with its own backoff (0.8s doubling to 30s, jittered up to
// 60s, not configurable through an informer factory), so after a 20-second API server
// outage a controller saw new CSRs up to a minute after the server was back. Retrying
// inside the list and watch calls, at most every reconnectMax, keeps that under a few
// seconds for the cost of one refused connection per reconnectMax.
const (
	reconnectInitial = 250 * time.Millisecond
	reconnectMax     = 2 * time.Second
)

// unreachable reports whether err says the API server could not answer now (down,
// restarting, overloaded, its storage away) rather than that the request was wrong.
func unreachable(err error) bool {
	return utilnet.IsConnectionRefused(err) || utilnet.IsConnectionReset(err) || utilnet.IsProbableEOF(err) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		apierrors.IsServiceUnavailable(err) || apierrors.IsTooManyRequests(err) ||
		apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || apierrors.IsInternalError(err)
}

// retryUnreachable calls call until it succeeds, fails for another reason, or ctx ends,
// waiting reconnectInitial doubling to reconnectMax between attempts. It logs the first
// failure of a run and the recovery, so an operator sees what the controller waited for.
func retryUnreachable[T any](ctx context.Context, log klog.Logger, what string, call func(context.Context) (T, error)) (T, error) {
	delay := reconnectInitial
	var since time.Time
	for {
		v, err := call(ctx)
		if err == nil || !unreachable(err) || ctx.Err() != nil {
			if err == nil && !since.IsZero() {
				log.Info("API server answers again", "request", what, "waited", time.Since(since).Round(time.Millisecond).String())
			}
			return v, err
		}
		if since.IsZero() {
			since = time.Now()
			log.Info("API server unreachable; retrying", "request", what, "every", reconnectMax.String(), "error", err.Error())
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return v, err
		case <-t.C:
		}
		delay = min(2*delay, reconnectMax)
	}
}

// patientListWatch is a ListerWatcher whose list and watch wait out an unreachable API
// server (retryUnreachable) instead of handing the error to the reflector's backoff.
func patientListWatch(log klog.Logger, resource string, client kubernetes.Interface,
	list func(context.Context, metav1.ListOptions) (runtime.Object, error),
	watchFn func(context.Context, metav1.ListOptions) (watch.Interface, error)) cache.ListerWatcher {
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			return retryUnreachable(ctx, log, "list "+resource, func(ctx context.Context) (runtime.Object, error) { return list(ctx, opts) })
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			return retryUnreachable(ctx, log, "watch "+resource, func(ctx context.Context) (watch.Interface, error) { return watchFn(ctx, opts) })
		},
	}
	return cache.ToListWatcherWithWatchListSemantics(lw, client)
}

// usePatientInformers registers the CSR informer of factory built on patientListWatch,
// caching CSRs as compactCSR leaves them; later calls to the factory's typed informer
// return it.
func usePatientInformers(factory informers.SharedInformerFactory, log klog.Logger) {
	factory.InformerFor(&certificatesv1.CertificateSigningRequest{}, func(c kubernetes.Interface, resync time.Duration) cache.SharedIndexInformer {
		csrs := c.CertificatesV1().CertificateSigningRequests()
		return newPatientInformer(log, "certificatesigningrequests", c, &certificatesv1.CertificateSigningRequest{}, resync, compactCSR, csrs.List, csrs.Watch)
	})
}

// patientNodes registers and returns factory's Node informer built on
// patientListWatch, caching Nodes as approve.SlimNode leaves them. Only servingapproving
// asks for it: a factory starts every informer registered with it, and a Node watch
// costs memory (and rights) that no other controller needs.
func patientNodes(factory informers.SharedInformerFactory, log klog.Logger) cache.SharedIndexInformer {
	return factory.InformerFor(&corev1.Node{}, func(c kubernetes.Interface, resync time.Duration) cache.SharedIndexInformer {
		nodes := c.CoreV1().Nodes()
		return newPatientInformer(log, "nodes", c, &corev1.Node{}, resync, approve.SlimNode, nodes.List, nodes.Watch)
	})
}

// newPatientInformer is an informer of obj's type over patientListWatch, indexed by
// namespace as the factory's own informers are, caching objects as transform leaves them.
func newPatientInformer[L runtime.Object](log klog.Logger, resource string, client kubernetes.Interface, obj runtime.Object, resync time.Duration,
	transform cache.TransformFunc,
	list func(context.Context, metav1.ListOptions) (L, error),
	watchFn func(context.Context, metav1.ListOptions) (watch.Interface, error)) cache.SharedIndexInformer {
	lw := patientListWatch(log, resource, client,
		func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return list(ctx, o) },
		watchFn)
	inf := cache.NewSharedIndexInformer(lw, obj, resync, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	// SetTransform fails only once the informer has started; it has not.
	_ = inf.SetTransform(transform)
	return inf
}
