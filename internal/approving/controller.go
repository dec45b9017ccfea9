// Package approving runs the approve package's approve.Approver as a controller, as
// kube-controller-manager's csrapproving does: a CSR informer, a rate-limited queue of
// workers (internal/queue), Events and metrics, and the handoff of each approval to a
// signer in the same process. controller.Run is its user.
package approving

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	certificatesinformers "k8s.io/client-go/informers/certificates/v1"
	"k8s.io/client-go/kubernetes"
	certificateslisters "k8s.io/client-go/listers/certificates/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/internal/queue"
)

// ControllerOptions configure NewController.
type ControllerOptions struct {
	// Approver decides and writes. Required.
	Approver *approve.Approver
	// Workers is how many CSRs are handled at once. Default 5, as kube-controller-manager.
	Workers int
	// Recorder, when set, receives an Event on the CSR for each approval, denial and
	// ignore (ignores only for CSRs naming a signer this approver handles).
	Recorder record.EventRecorder
	// Metrics, when set, counts decisions and observes latency.
	Metrics *Metrics
	// Handoff, when set, is a signer in the same process: it claims each CSR before the
	// approval is written and signs it right after, instead of waiting for the watch to
	// bring the approval back (signing.Controller implements it).
	Handoff Handoff
	// Clock measures latency. Default: the real clock.
	Clock clock.PassiveClock
	// PendingWarningAfter, when positive, is how long a CSR of a signer this approver
	// handles may stay pending before a Warning Event (reason PendingTooLong) says so,
	// once, with the reason of the last decision.
	PendingWarningAfter time.Duration
	// CacheSyncs are further informers Run waits for before working, such as the Node
	// informer behind NodesFromLister (a Node missing from an unsynced cache only delays
	// a serving approval, but waiting avoids the retry).
	CacheSyncs []cache.InformerSynced
}

// Handoff passes the CSRs a Controller approves to a signer in the same process.
type Handoff interface {
	// Claim is called just before the approval is written: the signer's own workers leave
	// the CSR to SignApproved, even when the watch delivers the approval first.
	Claim(csr *certificatesv1.CertificateSigningRequest)
	// Release is called instead of SignApproved when the approval was not written.
	Release(csr *certificatesv1.CertificateSigningRequest)
	// SignApproved is called with the CSR as the approval wrote it.
	SignApproved(ctx context.Context, csr *certificatesv1.CertificateSigningRequest)
}

// Controller approves CSRs as they appear, the way kube-controller-manager's csrapproving
// controller does, plus serving approval, Events and metrics when configured.
type Controller struct {
	client   kubernetes.Interface
	lister   certificateslisters.CertificateSigningRequestLister
	synced   cache.InformerSynced
	queue    *queue.Queue
	opts     ControllerOptions
	approver *approve.Approver
	// warned holds the UIDs of CSRs that got their PendingTooLong Event.
	warned sync.Map
}

// NewController wires a controller to informer (from a SharedInformerFactory's
// Certificates().V1().CertificateSigningRequests()). The caller starts the factory; Run
// waits for its cache. client needs update on certificatesigningrequests/approval,
// approve on the signers, and create on subjectaccessreviews (for NewSARAuthorizer).
func NewController(client kubernetes.Interface, informer certificatesinformers.CertificateSigningRequestInformer, opts ControllerOptions) (*Controller, error) {
	if client == nil || informer == nil {
		return nil, errors.New("approving: NewController needs a client and an informer")
	}
	if opts.Approver == nil {
		return nil, errors.New("approving: ControllerOptions.Approver is required")
	}
	if opts.Workers <= 0 {
		opts.Workers = 5
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	c := &Controller{
		client:   client,
		lister:   informer.Lister(),
		opts:     opts,
		approver: opts.Approver,
		queue:    queue.New("csrapproving"),
	}
	reg, err := informer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj any) { c.enqueue(obj) },
		DeleteFunc: c.forget,
	})
	if err != nil {
		return nil, fmt.Errorf("approving: registering CSR event handler: %w", err)
	}
	c.synced = reg.HasSynced
	return c, nil
}

func (c *Controller) enqueue(obj any) {
	csr, ok := obj.(*certificatesv1.CertificateSigningRequest)
	if !ok {
		return
	}
	if settled(csr) {
		return
	}
	c.queue.Add(csr.Name)
}

// forget drops what the controller remembers of a deleted CSR.
func (c *Controller) forget(obj any) {
	if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	if csr, ok := obj.(*certificatesv1.CertificateSigningRequest); ok {
		c.warned.Delete(csr.UID)
	}
}

// Run waits for the informer's cache, then handles CSRs with opts.Workers workers until
// ctx ends. It returns nil after a normal stop, an error when the cache never syncs.
func (c *Controller) Run(ctx context.Context) error {
	log := klog.FromContext(ctx).WithValues("controller", "csrapproving")
	ctx = klog.NewContext(ctx, log)
	log.Info("Starting CSR approving controller", "workers", c.opts.Workers, "servingApproval", c.approver.ServingEnabled())
	defer log.Info("Stopped CSR approving controller")
	return c.queue.Run(ctx, c.opts.Workers, c.sync, append([]cache.InformerSynced{c.synced}, c.opts.CacheSyncs...)...)
}

// sync decides on one CSR and writes the decision; it asks to look again later when the
// decision says so.
func (c *Controller) sync(ctx context.Context, name string) (queue.Result, error) {
	log := klog.FromContext(ctx).WithValues("csr", name)
	return c.decide(ctx, log, name)
}

func (c *Controller) decide(ctx context.Context, log klog.Logger, name string) (queue.Result, error) {
	obj, err := c.lister.Get(name)
	if apierrors.IsNotFound(err) {
		return queue.Result{}, nil
	}
	if err != nil {
		return queue.Result{}, err
	}
	if settled(obj) {
		c.warned.Delete(obj.UID)
		return queue.Result{}, nil // someone decided it: nothing to log or count
	}
	d, err := c.approver.Decide(ctx, obj)
	if err != nil {
		c.opts.Metrics.observe(d, err, 0)
		return queue.Result{}, err
	}
	handoff := c.opts.Handoff != nil && d.Action == approve.ActionApprove
	if handoff {
		c.opts.Handoff.Claim(obj)
	}
	updated, err := c.approver.Apply(ctx, c.client, obj, d)
	if err != nil {
		if handoff {
			c.opts.Handoff.Release(obj)
		}
		if !apierrors.IsConflict(err) {
			c.opts.Metrics.observe(d, err, 0)
		}
		return queue.Result{}, err
	}
	c.opts.Metrics.observe(d, nil, c.opts.Clock.Since(obj.CreationTimestamp.Time))
	c.record(obj, d)
	log.Info("CSR decision", "action", d.Action, "kind", d.Kind, "reason", d.Reason, "message", d.Message,
		"signer", obj.Spec.SignerName, "requester", obj.Spec.Username, "requeue", d.Requeue)
	for _, v := range d.Audit {
		log.Info("Serving policy audit: would deny", "rule", v.Rule, "node", v.Node, "san", v.SAN.String(), "conflict", v.Conflict, "detail", v.Detail)
	}
	if handoff {
		c.opts.Handoff.SignApproved(ctx, updated)
	}
	return queue.Result{Retry: d.Requeue, After: c.warnIfPendingTooLong(obj, d)}, nil
}

// warnIfPendingTooLong emits the PendingTooLong Event once for a CSR this approver left
// pending for PendingWarningAfter, with the reason of the decision just made, and
// otherwise says when to look again (0: never).
func (c *Controller) warnIfPendingTooLong(obj *certificatesv1.CertificateSigningRequest, d approve.Decision) time.Duration {
	after := c.opts.PendingWarningAfter
	if after <= 0 || d.Action != approve.ActionIgnore || !c.handlesSigner(obj.Spec.SignerName) {
		return 0
	}
	if _, done := c.warned.Load(obj.UID); done {
		return 0
	}
	age := c.opts.Clock.Since(obj.CreationTimestamp.Time)
	if age < after {
		return after - age
	}
	c.warned.Store(obj.UID, struct{}{})
	if c.opts.Recorder != nil {
		c.opts.Recorder.Eventf(obj, corev1.EventTypeWarning, reasonPendingTooLong,
			"Pending for %s without approval: %s (%s)", age.Round(time.Second), d.Message, d.Reason)
	}
	return 0
}

// reasonPendingTooLong is the Event reason of a CSR left pending past
// ControllerOptions.PendingWarningAfter.
const reasonPendingTooLong = "PendingTooLong"

// record emits an Event for d; ignores only for CSRs of a signer this approver handles,
// so other signers' CSRs do not collect noise.
func (c *Controller) record(obj *certificatesv1.CertificateSigningRequest, d approve.Decision) {
	if c.opts.Recorder == nil {
		return
	}
	for _, v := range d.Audit {
		c.opts.Recorder.Event(obj, corev1.EventTypeWarning, reasonServingAudit, auditMessage(v))
	}
	switch d.Action {
	case approve.ActionApprove:
		c.opts.Recorder.Event(obj, corev1.EventTypeNormal, d.Reason, d.Message)
	case approve.ActionDeny:
		c.opts.Recorder.Event(obj, corev1.EventTypeWarning, d.Reason, d.Message)
	default:
		if c.handlesSigner(obj.Spec.SignerName) {
			c.opts.Recorder.Event(obj, corev1.EventTypeNormal, d.Reason, d.Message)
		}
	}
}

func (c *Controller) handlesSigner(signer string) bool {
	for _, k := range []approve.Kind{approve.KindNodeClient, approve.KindSelfNodeClient, approve.KindSelfNodeServer} {
		if k.SignerName() == signer && (k != approve.KindSelfNodeServer || c.approver.ServingEnabled()) {
			return true
		}
	}
	return false
}

// settled reports a CSR that was decided or holds a certificate: the approver has
// nothing to do with it.
func settled(obj *certificatesv1.CertificateSigningRequest) bool {
	st := csr.StateOf(obj)
	return st.Decided() || st.Issued
}

// reasonServingAudit is the Event reason of a serving rule in audit mode that a CSR
// breaks: the CSR is decided by the other rules, and the finding is reported.
const reasonServingAudit = "ServingPolicyAudit"

func auditMessage(v *approve.ServingViolation) string {
	return fmt.Sprintf("Would deny kubelet serving certificate of node %q (rule %s, audit mode): %s.", v.Node, v.Rule, v.Detail)
}
