package controller

import (
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"
)

// budgetRecorder passes Events on while the budget allows and drops (and counts) the rest.
// Events are notes for humans running kubectl describe: the CSR's conditions, the
// controller's log and its metrics are the record, and an Event costs one API write on the
// same client as the approvals (kube-controller-manager writes none for CSRs).
type budgetRecorder struct {
	next    record.EventRecorder
	budget  *rate.Limiter
	dropped prometheus.Counter
}

func newBudgetRecorder(next record.EventRecorder, opts Options, reg prometheus.Registerer) (record.EventRecorder, error) {
	if opts.UnlimitedEvents {
		return next, nil
	}
	qps, burst := opts.EventQPS, opts.EventBurst
	dropped := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "tlsbootstrap_events_dropped_total",
		Help: "Events on CSRs not written because the Event budget (--event-qps, --event-burst) was spent.",
	})
	if err := reg.Register(dropped); err != nil {
		return nil, err
	}
	return &budgetRecorder{next: next, budget: rate.NewLimiter(rate.Limit(qps), burst), dropped: dropped}, nil
}

func (r *budgetRecorder) allow() bool {
	if r.budget.Allow() {
		return true
	}
	r.dropped.Inc()
	return false
}

func (r *budgetRecorder) Event(object runtime.Object, eventtype, reason, message string) {
	if r.allow() {
		r.next.Event(object, eventtype, reason, message)
	}
}

func (r *budgetRecorder) Eventf(object runtime.Object, eventtype, reason, messageFmt string, args ...any) {
	if r.allow() {
		r.next.Eventf(object, eventtype, reason, messageFmt, args...)
	}
}

func (r *budgetRecorder) AnnotatedEventf(object runtime.Object, annotations map[string]string, eventtype, reason, messageFmt string, args ...any) {
	if r.allow() {
		r.next.AnnotatedEventf(object, annotations, eventtype, reason, messageFmt, args...)
	}
}
