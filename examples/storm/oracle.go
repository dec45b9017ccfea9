package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/pflag"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

// oracleCommand re-executes this binary as the oracle: the CSR-flow limit. It knows every
// answer in advance (the certificates, signed before the clock starts) and does only what
// any controller must: watch the CSRs, write the approval, write the certificate.
const oracleCommand = "__oracle"

// writeAnswers signs every prepared request with the cluster CA, as the signer would,
// and writes the certificates by CSR name to path for the oracle.
func writeAnswers(path string, c *cluster, requests []*preparedRequest) error {
	ca, err := sign.LoadCA(c.caCert, c.caKey)
	if err != nil {
		return fmt.Errorf("oracle answers: %w", err)
	}
	answers := make(map[string][]byte, len(requests))
	now := time.Now()
	for _, p := range requests {
		obj := &certificatesv1.CertificateSigningRequest{Spec: certificatesv1.CertificateSigningRequestSpec{
			Request: p.spec.Request, SignerName: p.spec.SignerName, Usages: p.spec.Usages}}
		cert, err := sign.Issue(ca, obj, now, controller.DefaultOptions().SigningDuration)
		if err != nil {
			return fmt.Errorf("oracle answer for %s: %w", p.spec.Name, err)
		}
		answers[p.spec.Name] = cert
	}
	data, err := json.Marshal(answers)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

func runOracle(args []string) error {
	fs := pflag.NewFlagSet(oracleCommand, pflag.ContinueOnError)
	var pf processFlags
	pf.register(fs)
	answersFile := fs.String("answers", "", "JSON object: CSR name → certificate PEM")
	if err := fs.Parse(args); err != nil {
		return err
	}
	data, err := os.ReadFile(*answersFile)
	if err != nil {
		return err
	}
	var answers map[string][]byte
	if err := json.Unmarshal(data, &answers); err != nil {
		return fmt.Errorf("%s: %w", *answersFile, err)
	}
	client, reg, err := pf.countedClient()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var ready atomic.Bool
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			http.Error(w, "not synced", http.StatusServiceUnavailable)
		}
	})
	server := &http.Server{Addr: pf.metricsAddr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = server.ListenAndServe() }()
	defer server.Close()

	o := &oracle{client: client, answers: answers, queue: make(chan *certificatesv1.CertificateSigningRequest, len(answers)), taken: map[string]bool{}}
	factory := informers.NewSharedInformerFactory(client, 0)
	informer := factory.Certificates().V1().CertificateSigningRequests().Informer()
	if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    o.offer,
		UpdateFunc: func(_, obj any) { o.offer(obj) },
	}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), informer.HasSynced) {
		return errors.New("oracle: the CSR informer did not sync")
	}
	ready.Store(true)
	var wg sync.WaitGroup
	for range pf.workers {
		wg.Go(func() { o.work(ctx) })
	}
	<-ctx.Done()
	wg.Wait()
	return nil
}

// oracle hands each known, unanswered CSR to one writer.
type oracle struct {
	client  kubernetes.Interface
	answers map[string][]byte
	queue   chan *certificatesv1.CertificateSigningRequest
	mu      sync.Mutex
	taken   map[string]bool
}

func (o *oracle) offer(obj any) {
	c, ok := obj.(*certificatesv1.CertificateSigningRequest)
	if !ok || o.answers[c.Name] == nil || len(c.Status.Certificate) > 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.taken[c.Name] {
		return
	}
	o.taken[c.Name] = true
	o.queue <- c
}

// work writes the approval, then the certificate, for each CSR it is handed.
func (o *oracle) work(ctx context.Context) {
	for {
		var c *certificatesv1.CertificateSigningRequest
		select {
		case <-ctx.Done():
			return
		case c = <-o.queue:
		}
		// A conflict (the node's watch saw nothing yet; nobody else writes) is retried
		// on a fresh copy.
		c = c.DeepCopy()
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			err := o.answer(ctx, c)
			if apierrors.IsConflict(err) {
				if fresh, getErr := o.client.CertificatesV1().CertificateSigningRequests().Get(ctx, c.Name, metav1.GetOptions{}); getErr == nil {
					c = fresh
				}
			}
			return err
		})
		if err != nil && ctx.Err() == nil {
			fmt.Fprintf(os.Stderr, "oracle: %s: %v\n", c.Name, err)
		}
	}
}

func (o *oracle) answer(ctx context.Context, c *certificatesv1.CertificateSigningRequest) error {
	csrs := o.client.CertificatesV1().CertificateSigningRequests()
	if csr.Condition(c, certificatesv1.CertificateApproved) == nil {
		c.Status.Conditions = append(c.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
			Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "Oracle", Message: "known in advance",
		})
		approved, err := csrs.UpdateApproval(ctx, c.Name, c, metav1.UpdateOptions{})
		if err != nil {
			return err
		}
		c = approved
	}
	c.Status.Certificate = o.answers[c.Name]
	if _, err := csrs.UpdateStatus(ctx, c, metav1.UpdateOptions{}); err != nil {
		return err
	}
	return nil
}
