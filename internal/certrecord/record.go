// Package certrecord keeps, per node, the newest kubelet client and serving certificate
// the cluster issued: when it expires, when it was issued (the last renewal seen) and its
// serial. Issued CSRs are deleted by the cleaner after an hour, so the record lives in a
// few ConfigMaps in the controller's namespace; it survives the cleaner and a controller
// restart, and `tokenctl status` reads it.
//
// ConfigMaps, not a CRD: nothing to install, readable with kubectl, and one object per
// shard keeps each under the 1 MiB object limit (about 100 bytes a node: 16 shards hold
// well over 100,000 nodes). Writes are batched: a node's renewal marks its shard dirty and
// a flush every FlushInterval rewrites the dirty shards only, so a storm of 10,000
// renewals costs a few dozen writes, not 10,000.
package certrecord

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/internal/serial"
)

// Kind is which certificate of a node.
type Kind string

// The kinds of node certificates, by signer.
const (
	Client  Kind = "client"
	Serving Kind = "serving"
)

// Kinds lists them in the order they are shown.
func Kinds() []Kind { return []Kind{Client, Serving} }

// kindOf maps a signer to the kind of certificate it issues to nodes.
func kindOf(signer string) (Kind, bool) {
	switch signer {
	case certificatesv1.KubeAPIServerClientKubeletSignerName:
		return Client, true
	case certificatesv1.KubeletServingSignerName:
		return Serving, true
	}
	return "", false
}

// Cert is what the record keeps of a certificate.
type Cert struct {
	NotAfter time.Time
	// Issued is the certificate's NotBefore plus the signer's backdate: when it was
	// issued, the node's last renewal.
	Issued time.Time
	Serial string
}

// Entry is a node's newest certificate of each kind; a kind never seen is absent.
type Entry map[Kind]Cert

// Shards is how many ConfigMaps hold the record.
const Shards = 16

const (
	labelKey, labelValue = "app.kubernetes.io/name", "tlsbootstrap-node-certificates"
	namePrefix           = "tlsbootstrap-node-certificates-"
)

// Label marks the record's ConfigMaps (a label selector).
const Label = labelKey + "=" + labelValue

// Options configure New.
type Options struct {
	// Namespace holds the ConfigMaps. Required.
	Namespace string
	// FlushInterval is how often dirty shards are written. Default 10s.
	FlushInterval time.Duration
	// Clock is the time source. Default the real clock.
	Clock clock.PassiveClock
}

// Record is the in-memory record and its writer.
type Record struct {
	client kubernetes.Interface
	opts   Options

	mu      sync.Mutex
	nodes   map[string]Entry
	dirty   [Shards]bool
	loaded  bool
	version [Shards]string // resourceVersion of each shard as last read or written
}

// New returns an empty record; Run loads it and keeps it written.
func New(client kubernetes.Interface, opts Options) (*Record, error) {
	if opts.Namespace == "" {
		return nil, errors.New("certrecord: Options.Namespace is required")
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 10 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	return &Record{client: client, opts: opts, nodes: map[string]Entry{}}, nil
}

// ObserveCSR records the certificate of an issued kubelet CSR; other CSRs are ignored.
func (r *Record) ObserveCSR(obj *certificatesv1.CertificateSigningRequest) {
	kind, ok := kindOf(obj.Spec.SignerName)
	if !ok || len(obj.Status.Certificate) == 0 {
		return
	}
	block, _ := pem.Decode(obj.Status.Certificate)
	if block == nil {
		return
	}
	f, err := parseFields(block.Bytes)
	if err != nil {
		return
	}
	r.observe(kind, f)
}

// Observe records cert as node's newest of kind unless a later-expiring one is known.
func (r *Record) Observe(kind Kind, cert *x509.Certificate) {
	r.observe(kind, certFields{commonName: cert.Subject.CommonName, serial: cert.SerialNumber, notBefore: cert.NotBefore, notAfter: cert.NotAfter})
}

func (r *Record) observe(kind Kind, f certFields) {
	node, ok := strings.CutPrefix(f.commonName, csr.NodeUserPrefix)
	if !ok || node == "" {
		return
	}
	c := Cert{NotAfter: f.notAfter.UTC(), Issued: f.notBefore.Add(csr.Backdate).UTC(), Serial: serial.Hex(f.serial)}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.merge(node, kind, c) {
		r.dirty[shardOf(node)] = true
	}
}

// merge keeps c when it expires after what node has of kind; it reports a change.
func (r *Record) merge(node string, kind Kind, c Cert) bool {
	e := r.nodes[node]
	if have, ok := e[kind]; ok && !c.NotAfter.After(have.NotAfter) {
		return false
	}
	if e == nil {
		e = Entry{}
		r.nodes[node] = e
	}
	e[kind] = c
	return true
}

// FromCSRs is what the issued kubelet CSRs among objs say, by the record's rule (the
// latest expiry wins): for readers of a cluster whose CSRs are still there.
func FromCSRs(objs []certificatesv1.CertificateSigningRequest) map[string]Entry {
	r := &Record{nodes: map[string]Entry{}}
	for i := range objs {
		r.ObserveCSR(&objs[i])
	}
	return r.nodes
}

// Snapshot copies the record.
func (r *Record) Snapshot() map[string]Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]Entry, len(r.nodes))
	for n, e := range r.nodes {
		out[n] = maps.Clone(e)
	}
	return out
}

// Run loads the stored record (retrying until it can), then writes the dirty shards
// every FlushInterval, and once more when ctx ends.
func (r *Record) Run(ctx context.Context) error {
	log := klog.FromContext(ctx).WithName("certrecord")
	for {
		err := r.load(ctx)
		if err == nil {
			break
		}
		log.Error(err, "Loading the node certificate record; retrying")
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(r.opts.FlushInterval):
		}
	}
	ticker := time.NewTicker(r.opts.FlushInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if err := r.flush(flushCtx); err != nil {
				log.Error(err, "Writing the node certificate record at stop")
			}
			return nil
		case <-ticker.C:
			if err := r.flush(ctx); err != nil && ctx.Err() == nil {
				log.Error(err, "Writing the node certificate record; retrying at the next flush")
			}
		}
	}
}

// load merges the stored shards into memory, marking shards whose stored form lacks
// something memory has (seen before the load) dirty.
func (r *Record) load(ctx context.Context) error {
	stored, versions, err := readShards(ctx, r.client, r.opts.Namespace)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := r.nodes
	r.nodes = stored
	r.version = versions
	for node, e := range seen {
		for kind, c := range e {
			if r.merge(node, kind, c) {
				r.dirty[shardOf(node)] = true
			}
		}
	}
	r.loaded = true
	return nil
}

// flush writes each dirty shard, whole.
func (r *Record) flush(ctx context.Context) error {
	r.mu.Lock()
	if !r.loaded {
		r.mu.Unlock()
		return nil
	}
	type write struct {
		shard   int
		data    map[string]string
		version string
	}
	var writes []write
	byShard := [Shards]map[string]string{}
	for s := range Shards {
		if r.dirty[s] {
			byShard[s] = map[string]string{}
			writes = append(writes, write{shard: s, data: byShard[s], version: r.version[s]})
			r.dirty[s] = false
		}
	}
	for node, e := range r.nodes {
		if data := byShard[shardOf(node)]; data != nil {
			data[node] = encode(e)
		}
	}
	r.mu.Unlock()

	var errs []error
	for _, w := range writes {
		version, err := r.writeShard(ctx, w.shard, w.data, w.version)
		r.mu.Lock()
		if err != nil {
			r.dirty[w.shard] = true // written at the next flush
			errs = append(errs, err)
		} else {
			r.version[w.shard] = version
		}
		r.mu.Unlock()
	}
	return errors.Join(errs...)
}

// writeShard replaces shard's data. Only the leader writes, so a conflict means the
// version this replica holds is stale (another replica led meanwhile): its record was
// merged at load, so the write goes ahead over the current version.
func (r *Record) writeShard(ctx context.Context, shard int, data map[string]string, version string) (string, error) {
	cms := r.client.CoreV1().ConfigMaps(r.opts.Namespace)
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: shardName(shard), Namespace: r.opts.Namespace, Labels: map[string]string{labelKey: labelValue}, ResourceVersion: version},
		Data:       data,
	}
	if version == "" {
		created, err := cms.Create(ctx, cm, metav1.CreateOptions{})
		if err == nil {
			return created.ResourceVersion, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return "", fmt.Errorf("creating ConfigMap %s/%s: %w", r.opts.Namespace, cm.Name, err)
		}
	}
	for range 3 {
		updated, err := cms.Update(ctx, cm, metav1.UpdateOptions{})
		if err == nil {
			return updated.ResourceVersion, nil
		}
		if !apierrors.IsConflict(err) && !(cm.ResourceVersion == "" && apierrors.IsInvalid(err)) {
			return "", fmt.Errorf("updating ConfigMap %s/%s: %w", r.opts.Namespace, cm.Name, err)
		}
		current, getErr := cms.Get(ctx, cm.Name, metav1.GetOptions{})
		if getErr != nil {
			return "", fmt.Errorf("reading ConfigMap %s/%s: %w", r.opts.Namespace, cm.Name, getErr)
		}
		cm.ResourceVersion = current.ResourceVersion
	}
	return "", fmt.Errorf("updating ConfigMap %s/%s: kept conflicting", r.opts.Namespace, cm.Name)
}

// Read returns the stored record of namespace, for readers such as tokenctl status.
func Read(ctx context.Context, client kubernetes.Interface, namespace string) (map[string]Entry, error) {
	nodes, _, err := readShards(ctx, client, namespace)
	return nodes, err
}

func readShards(ctx context.Context, client kubernetes.Interface, namespace string) (map[string]Entry, [Shards]string, error) {
	var versions [Shards]string
	list, err := client.CoreV1().ConfigMaps(namespace).List(ctx, metav1.ListOptions{LabelSelector: Label})
	if err != nil {
		return nil, versions, fmt.Errorf("listing the node certificate record in %s: %w", namespace, err)
	}
	nodes := map[string]Entry{}
	for _, cm := range list.Items {
		shard, ok := shardIndex(cm.Name)
		if !ok {
			continue
		}
		versions[shard] = cm.ResourceVersion
		for node, value := range cm.Data {
			if e, err := decode(value); err == nil {
				nodes[node] = e
			}
		}
	}
	return nodes, versions, nil
}

func shardOf(node string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(node))
	return int(h.Sum32() % Shards)
}

func shardName(shard int) string { return fmt.Sprintf("%s%02d", namePrefix, shard) }

func shardIndex(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, namePrefix)
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(s)
	return i, err == nil && i >= 0 && i < Shards
}

// encode is "client=<notAfter>,<issued>,<serial>;serving=…", times as Unix seconds:
// compact, and readable with kubectl.
func encode(e Entry) string {
	kinds := make([]string, 0, len(e))
	for k := range e {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		c := e[Kind(k)]
		parts[i] = fmt.Sprintf("%s=%d,%d,%s", k, c.NotAfter.Unix(), c.Issued.Unix(), c.Serial)
	}
	return strings.Join(parts, ";")
}

func decode(s string) (Entry, error) {
	e := Entry{}
	for part := range strings.SplitSeq(s, ";") {
		kind, rest, ok := strings.Cut(part, "=")
		fields := strings.Split(rest, ",")
		if !ok || len(fields) != 3 || (Kind(kind) != Client && Kind(kind) != Serving) {
			return nil, fmt.Errorf("certrecord: malformed entry %q", part)
		}
		notAfter, err1 := strconv.ParseInt(fields[0], 10, 64)
		issued, err2 := strconv.ParseInt(fields[1], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("certrecord: malformed times in %q", part)
		}
		e[Kind(kind)] = Cert{NotAfter: time.Unix(notAfter, 0).UTC(), Issued: time.Unix(issued, 0).UTC(), Serial: fields[2]}
	}
	return e, nil
}
