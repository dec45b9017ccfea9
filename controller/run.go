package controller

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
	"github.com/tlsbootstrap/tlsbootstrap/csrcleaner"
	"github.com/tlsbootstrap/tlsbootstrap/discovery"
	"github.com/tlsbootstrap/tlsbootstrap/internal/approving"
	"github.com/tlsbootstrap/tlsbootstrap/internal/backlog"
	"github.com/tlsbootstrap/tlsbootstrap/internal/certrecord"
	"github.com/tlsbootstrap/tlsbootstrap/internal/signing"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// eventSource is the component name on the Events the controllers emit.
const eventSource = "tlsbootstrap-csr-controller"

// Run runs the enabled controllers until ctx ends (or, with leader election, until the
// Lease is lost, which returns an error so the process restarts as a follower). The
// metrics server, when configured, runs on every replica. Everything logs to ctx's logger
// (klog.FromContext): logr.NewContext(ctx, logr.Discard()) silences it.
func Run(ctx context.Context, client kubernetes.Interface, opts Options) error {
	if err := opts.complete(); err != nil {
		return err
	}
	reg := opts.Registry
	var ready atomic.Bool

	g, ctx := errgroup.WithContext(ctx)
	if opts.MetricsBindAddress != "" && opts.MetricsBindAddress != "0" {
		g.Go(func() error { return serveMetrics(ctx, opts.MetricsBindAddress, reg, &ready) })
	}
	g.Go(func() error {
		if !opts.LeaderElection.Enabled {
			return runControllers(ctx, client, opts, reg, &ready)
		}
		return runElected(ctx, client, opts, reg, &ready)
	})
	return g.Wait()
}

func runElected(ctx context.Context, client kubernetes.Interface, opts Options, reg *prometheus.Registry, ready *atomic.Bool) error {
	le := opts.LeaderElection
	id := le.Identity
	if id == "" {
		host, _ := os.Hostname()
		id = host + "_" + rand.String(8)
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: le.Namespace, Name: le.Name},
		Client:     client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: id},
	}
	// The elector runs OnStartedLeading in a goroutine of its own and may return before
	// it ends: started/finished let runElected wait for the controllers to stop.
	started, finished := make(chan struct{}), make(chan struct{})
	var runErr error
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   le.LeaseDuration,
		RenewDeadline:   le.RenewDeadline,
		RetryPeriod:     le.RetryPeriod,
		ReleaseOnCancel: le.ReleaseOnCancel,
		Name:            le.Name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(ctx context.Context) {
				close(started)
				defer close(finished)
				klog.FromContext(ctx).Info("became leader, starting controllers", "identity", id)
				runErr = runControllers(ctx, client, opts, reg, ready)
			},
			OnStoppedLeading: func() {
				klog.FromContext(ctx).Info("stopped leading", "identity", id)
			},
			OnNewLeader: func(identity string) {
				if identity != id {
					klog.FromContext(ctx).Info("following leader", "leader", identity)
				}
			},
		},
	})
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	elector.Run(ctx)
	select {
	case <-started:
		<-finished // runErr is written before finished closes
	default:
		return ctx.Err() // never led
	}
	if ctx.Err() != nil {
		return runErr
	}
	return errors.Join(errors.New("lost the leader election lease"), runErr)
}

// runControllers builds and runs the enabled controllers on one informer factory.
func runControllers(ctx context.Context, client kubernetes.Interface, opts Options, reg *prometheus.Registry, ready *atomic.Bool) error {
	log := klog.FromContext(ctx)
	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	defer broadcaster.Shutdown()
	recorder, err := newBudgetRecorder(broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: eventSource}), opts, reg)
	if err != nil {
		return fmt.Errorf("event budget metrics: %w", err)
	}

	factory := informers.NewSharedInformerFactory(client, 0)
	usePatientInformers(factory, log.WithName("informers"))
	csrInformer := factory.Certificates().V1().CertificateSigningRequests()
	g, ctx := errgroup.WithContext(ctx)

	var signer *signing.Controller
	if opts.enabled(CSRSigning) {
		s, err := sign.NewSigner(sign.SignerOptions{SigningDuration: opts.SigningDuration, CA: opts.ClusterSigningCA,
			SignerCAs: opts.SignerCAs, CustomSigners: opts.CustomSigners})
		if err != nil {
			return err
		}
		metrics, err := signing.NewMetrics(reg)
		if err != nil {
			return err
		}
		signer, err = signing.NewController(client, csrInformer, signing.ControllerOptions{
			Signer: s, Workers: opts.Workers, Recorder: recorder, Metrics: metrics,
		})
		if err != nil {
			return err
		}
		g.Go(func() error { return signer.Run(ctx) })
	}
	if opts.enabled(CSRApproving) {
		approverOpts := approve.Options{
			Authorizer: approve.NewSARAuthorizer(client, approve.SAROptions{CacheTTL: opts.SARCacheTTL}),
		}
		var cacheSyncs []cache.InformerSynced
		if opts.enabled(ServingApproving) {
			facts, err := approve.NewClusterFacts(client, patientNodes(factory, log.WithName("informers")))
			if err != nil {
				return err
			}
			approverOpts.Serving = &approve.ServingOptions{Policy: opts.ServingPolicy, Facts: facts}
			cacheSyncs = append(cacheSyncs, facts.HasSynced)
			g.Go(func() error { return facts.Run(ctx) })
		}
		approver, err := approve.NewApprover(approverOpts)
		if err != nil {
			return err
		}
		metrics, err := approving.NewMetrics(reg)
		if err != nil {
			return err
		}
		ctrlOpts := approving.ControllerOptions{
			Approver: approver, Workers: opts.Workers, Recorder: recorder, Metrics: metrics,
			CacheSyncs: cacheSyncs, PendingWarningAfter: *opts.PendingWarningAfter,
		}
		if signer != nil {
			// Sign in this process right away instead of waiting for the watch.
			ctrlOpts.Handoff = signer
		}
		c, err := approving.NewController(client, csrInformer, ctrlOpts)
		if err != nil {
			return err
		}
		g.Go(func() error { return c.Run(ctx) })
	}
	if opts.enabled(CSRCleaner) {
		// From the shared cache: a list of its own would hold every CSR a second time.
		cleaner := csrcleaner.New(client, csrcleaner.Options{Interval: opts.CleanerInterval, Informer: csrInformer})
		g.Go(func() error { return cleaner.Run(ctx) })
	}
	if opts.enabled(TokenCleaner) {
		cleaner := token.NewCleaner(client, token.WatchOptions{})
		g.Go(func() error { return cleaner.Run(ctx) })
	}
	if opts.enabled(BootstrapSigner) {
		bootstrapSigner := discovery.NewClusterInfoSigner(client, token.WatchOptions{})
		g.Go(func() error { return bootstrapSigner.Run(ctx) })
	}
	if opts.enabled(TrustPublisher) {
		publisher, err := newTrustPublisher(client, &opts)
		if err != nil {
			return err
		}
		g.Go(func() error { return publisher.Run(ctx) })
	}

	if opts.enabled(NodeCertificates) {
		record, err := certrecord.New(client, certrecord.Options{Namespace: opts.NodeCertificateNamespace, FlushInterval: opts.recordFlush})
		if err != nil {
			return err
		}
		// Every issued kubelet CSR, those present at start included (the informer's first
		// list delivers them as additions), whoever signed it.
		if _, err := csrInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { observeCSR(record, obj) },
			UpdateFunc: func(_, obj any) { observeCSR(record, obj) },
		}); err != nil {
			return fmt.Errorf("node certificate record: %w", err)
		}
		expiry := record.Collector(opts.ExpiryHorizons)
		if err := reg.Register(expiry); err != nil {
			return fmt.Errorf("registering the node certificate metrics: %w", err)
		}
		defer reg.Unregister(expiry)
		g.Go(func() error { return record.Run(ctx) })
	}
	// The backlog gauges exist only while this replica runs the controllers (leads): a
	// follower's /metrics has none rather than stale ones.
	served := sign.BuiltinSigners()
	for _, p := range opts.CustomSigners {
		served = append(served, p.SignerName)
	}
	backlogCollector := backlog.NewCollector(csrInformer.Lister(), served, clock.RealClock{})
	if err := reg.Register(backlogCollector); err != nil {
		return fmt.Errorf("registering the backlog metrics: %w", err)
	}
	defer reg.Unregister(backlogCollector)

	factory.Start(ctx.Done())
	defer factory.Shutdown()
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("informer cache for %v did not sync", typ)
		}
	}
	ready.Store(true)
	defer ready.Store(false)
	log.Info("controllers running", "controllers", opts.Controllers)
	return g.Wait()
}

func observeCSR(record *certrecord.Record, obj any) {
	if c, ok := obj.(*certificatesv1.CertificateSigningRequest); ok {
		record.ObserveCSR(c)
	}
}

// serveMetrics serves /metrics, /healthz (the process is up) and /readyz (this replica's
// controllers have synced and run; followers are not ready).
func serveMetrics(ctx context.Context, addr string, reg *prometheus.Registry, ready *atomic.Bool) error {
	log := klog.FromContext(ctx)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			http.Error(w, "controllers not running on this replica", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics server: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Info("serving metrics", "address", ln.Addr().String())
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics server: %w", err)
	}
	return nil
}
