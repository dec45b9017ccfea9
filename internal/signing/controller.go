// Package signing runs the sign package's sign.Signer as a controller, as
// kube-controller-manager's csrsigning does: a CSR informer and a rate-limited queue of
// workers (internal/queue), Events and metrics, and signing at once the CSRs an approver in
// the same process hands over (approving.Handoff). controller.Run is its user.
package signing

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	certinformers "k8s.io/client-go/informers/certificates/v1"
	"k8s.io/client-go/kubernetes"
	certlisters "k8s.io/client-go/listers/certificates/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/internal/queue"
	"github.com/tlsbootstrap/tlsbootstrap/internal/serial"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

// Event reasons the controller records on CSRs.
const (
	EventSigned        = "Signed"
	EventSigningFailed = "SigningFailed"
)

// ControllerOptions configure NewController.
type ControllerOptions struct {
	// Signer decides and signs. Required.
	Signer *sign.Signer
	// Workers is the number of CSRs signed in parallel. Default 5.
	Workers int
	// Recorder, when set, receives an Event on each CSR signed (Normal, EventSigned) or
	// failed (Warning, EventSigningFailed, with the validation error).
	Recorder record.EventRecorder
	// Metrics, when set, are updated for every signing attempt.
	Metrics *Metrics
}

// Controller signs approved CSRs as they arrive through an informer, and at once when
// SignNow is called (by an approver in the same process).
type Controller struct {
	client  kubernetes.Interface
	lister  certlisters.CertificateSigningRequestLister
	synced  cache.InformerSynced
	queue   *queue.Queue
	signer  *sign.Signer
	workers int
	rec     record.EventRecorder
	metrics *Metrics
	runOnce sync.Once
	running atomic.Bool
	// claimed holds the UIDs of CSRs claimed for SignNow (by Claim, before the approval is
	// written, or by SignNow itself): the workers leave them alone, so a CSR approved in
	// this process is signed once, not once by SignNow and again (a wasted signature and a
	// 409) by the worker the watch wakes. A claim ends when the watch shows the CSR issued,
	// denied, failed or deleted, or when SignNow or Release gives it back.
	claimed sync.Map
	// handed holds, by name, the CSRs SignApproved gave to the workers: the object as the
	// approval wrote it, newer than the informer's copy until the watch catches up.
	handed sync.Map
}

// NewController wires a signing controller to informer. Start the informer (its factory)
// yourself; Run waits for its cache.
func NewController(client kubernetes.Interface, informer certinformers.CertificateSigningRequestInformer, opts ControllerOptions) (*Controller, error) {
	if client == nil || informer == nil {
		return nil, errors.New("signing controller: client and informer are required")
	}
	if opts.Signer == nil {
		return nil, errors.New("signing controller: ControllerOptions.Signer is required")
	}
	if opts.Workers <= 0 {
		opts.Workers = 5
	}
	c := &Controller{
		client:  client,
		lister:  informer.Lister(),
		queue:   queue.New("csrsigning"),
		signer:  opts.Signer,
		workers: opts.Workers,
		rec:     opts.Recorder,
		metrics: opts.Metrics,
	}
	reg, err := informer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj any) { c.enqueue(obj) },
		DeleteFunc: c.forget,
	})
	if err != nil {
		return nil, fmt.Errorf("signing controller: watching CSRs: %w", err)
	}
	c.synced = reg.HasSynced
	return c, nil
}

// enqueue adds only CSRs there is something to do for, so idle updates cost nothing.
func (c *Controller) enqueue(obj any) {
	req, ok := obj.(*certificatesv1.CertificateSigningRequest)
	if !ok {
		return
	}
	ready, _ := c.signer.Decide(req)
	switch {
	case ready:
		c.queue.Add(req.Name)
	case claimOver(req):
		c.claimed.Delete(req.UID)
	}
}

// issuedOrSettled reports a CSR that holds a certificate or is denied or failed.
func issuedOrSettled(req *certificatesv1.CertificateSigningRequest) bool {
	st := csr.StateOf(req)
	return st.Issued || st.Denied || st.Failed
}

// claimOver reports whether a CSR the signer skips can never need signing again, so
// a claim on it is over. A CSR not approved yet keeps its claim: the approver claims it
// before writing the approval, and this process's watch may still be catching up.
func claimOver(req *certificatesv1.CertificateSigningRequest) bool {
	st := csr.StateOf(req)
	return st.Approved || st.Denied || st.Issued
}

// forget drops the claim of a deleted CSR.
func (c *Controller) forget(obj any) {
	if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	if req, ok := obj.(*certificatesv1.CertificateSigningRequest); ok {
		c.claimed.Delete(req.UID)
	}
}

// Run waits for the informer's cache, then signs with the configured workers until ctx
// ends. It returns an error when the cache never syncs; call it once.
func (c *Controller) Run(ctx context.Context) error {
	ran := false
	var err error
	c.runOnce.Do(func() {
		ran = true
		err = c.run(ctx)
	})
	if !ran {
		return errors.New("signing controller: Run called twice")
	}
	return err
}

func (c *Controller) run(ctx context.Context) error {
	c.running.Store(true)
	defer c.running.Store(false)
	ctx = klog.NewContext(ctx, klog.FromContext(ctx).WithName("csrsigning"))
	log := klog.FromContext(ctx)
	log.Info("Starting CSR signing controller", "workers", c.workers)
	defer log.Info("Stopped CSR signing controller")
	return c.queue.Run(ctx, c.workers, func(ctx context.Context, name string) (queue.Result, error) {
		return queue.Result{}, c.sync(ctx, name)
	}, c.synced)
}

func (c *Controller) sync(ctx context.Context, name string) error {
	req, err := c.lister.Get(name)
	if apierrors.IsNotFound(err) {
		c.handed.Delete(name)
		return nil
	}
	if err != nil {
		return err
	}
	if h, ok := c.handed.LoadAndDelete(name); ok {
		handed := h.(*certificatesv1.CertificateSigningRequest)
		if handed.UID == req.UID && !issuedOrSettled(req) {
			_, _, err = c.signClaimed(ctx, handed)
			return err
		}
	}
	if ready, _ := c.signer.Decide(req); !ready {
		if claimOver(req) {
			c.claimed.Delete(req.UID)
		}
		return nil
	}
	if _, ok := c.claimed.Load(req.UID); ok {
		return nil // SignNow has it; the watch will bring its certificate
	}
	_, _, err = c.handle(ctx, req.DeepCopy())
	return err
}

// Claim makes the workers leave req to SignNow or SignApproved until Release, or until the
// CSR is issued, denied, failed or deleted. Part of approving.Handoff: the approver claims a
// CSR before writing its approval, so the watch delivering that approval first does not
// start a second signature.
func (c *Controller) Claim(req *certificatesv1.CertificateSigningRequest) {
	c.claimed.Store(req.UID, struct{}{})
}

// Release ends a Claim whose approval was not written.
func (c *Controller) Release(req *certificatesv1.CertificateSigningRequest) {
	c.claimed.Delete(req.UID)
	c.queue.Add(req.Name) // in case a worker skipped it while it was claimed
}

// SignApproved gives req, as its approval was just written, to the workers, which sign it
// without waiting for the watch to deliver the approval; the caller goes on at once (the
// approval and the signature are written by separate workers). Part of approving.Handoff.
// Without Run, it signs at once like SignNow.
func (c *Controller) SignApproved(ctx context.Context, req *certificatesv1.CertificateSigningRequest) {
	if !c.running.Load() {
		if _, _, err := c.SignNow(ctx, req); err != nil {
			klog.FromContext(ctx).V(2).Info("Immediate signing deferred to the queue", "csr", req.Name, "error", err.Error())
		}
		return
	}
	c.claimed.Store(req.UID, struct{}{})
	c.handed.Store(req.Name, req)
	c.queue.Add(req.Name)
}

// SignNow signs req at once, without waiting for the watch to deliver it: call it with the
// CSR returned by the approval you just wrote. The watch may deliver the same CSR to the
// workers too; writes carry the resourceVersion, so it is signed once either way. It works
// whether or not Run is running.
func (c *Controller) SignNow(ctx context.Context, req *certificatesv1.CertificateSigningRequest) (*certificatesv1.CertificateSigningRequest, sign.Result, error) {
	if req == nil {
		return nil, sign.Result{}, errors.New("SignNow: no CSR")
	}
	c.claimed.Store(req.UID, struct{}{})
	return c.signClaimed(ctx, req)
}

// signClaimed signs a claimed CSR; when it is not done, the claim ends and the CSR goes
// back to the workers (which may have skipped it while it was claimed).
func (c *Controller) signClaimed(ctx context.Context, req *certificatesv1.CertificateSigningRequest) (*certificatesv1.CertificateSigningRequest, sign.Result, error) {
	out, res, err := c.handle(ctx, req.DeepCopy())
	if err != nil || res.Outcome == sign.Skipped {
		c.claimed.Delete(req.UID)
		c.queue.Add(req.Name)
	}
	return out, res, err
}

// handle signs and reports the decision as a log line, an Event and metrics.
func (c *Controller) handle(ctx context.Context, req *certificatesv1.CertificateSigningRequest) (*certificatesv1.CertificateSigningRequest, sign.Result, error) {
	signer := req.Spec.SignerName
	written, res, err := c.signer.Sign(ctx, c.client, req)
	log := klog.FromContext(ctx).WithValues("csr", req.Name, "signer", signer)
	switch {
	case err != nil:
		c.metrics.observe(signer, resultError)
		return written, res, err
	case res.Outcome == sign.Signed:
		cert := parseCertPEM(res.Certificate)
		now := time.Now()
		c.metrics.observeSigned(signer, req.CreationTimestamp.Time, now, cert, res.Issuer)
		if cert != nil {
			log.Info("Signed CSR", "subject", cert.Subject.String(), "serial", serial.Hex(cert.SerialNumber), "notAfter", cert.NotAfter)
			c.event(written, corev1.EventTypeNormal, EventSigned, "Certificate issued by %s for %s, valid until %s", signer, cert.Subject.CommonName, cert.NotAfter.UTC().Format(time.RFC3339))
		}
	case res.Outcome == sign.Failed:
		c.metrics.observe(signer, resultFailed)
		log.Info("Refused CSR", "reason", res.Reason, "message", res.Message)
		c.event(written, corev1.EventTypeWarning, EventSigningFailed, "%s: %s", res.Reason, res.Message)
	default:
		log.V(4).Info("Skipped CSR", "reason", res.Reason)
	}
	return written, res, nil
}

func (c *Controller) event(obj *certificatesv1.CertificateSigningRequest, typ, reason, format string, args ...any) {
	if c.rec != nil && obj != nil {
		c.rec.Eventf(obj, typ, reason, format, args...)
	}
}

func parseCertPEM(data []byte) *x509.Certificate {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil
	}
	return cert
}
