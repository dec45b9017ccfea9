package approve

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// Index names of the Node informer that NewClusterFacts extends.
const (
	nodeSANIndex     = "tlsbootstrap.serving/san"
	nodePodCIDRIndex = "tlsbootstrap.serving/podcidr"
)

// apiServerCertificateRefresh is how often ClusterFacts reads the API server's serving
// certificate again (it may be rotated under a running controller).
const apiServerCertificateRefresh = 10 * time.Minute

// certificateRetry is how soon a failed read of the API server's certificate is retried.
const certificateRetry = 10 * time.Second

// ClusterFacts are ServingFacts from watches: the Nodes (cached as SlimNode leaves them,
// indexed by address and Pod CIDR, so a lookup costs the same with 10 or 10,000 Nodes),
// the default/kubernetes Service and EndpointSlice, the ServiceCIDR objects (where the
// API server serves them), and the API server's serving certificate as this client's
// connection sees it. Run starts them; HasSynced tells when they are read.
type ClusterFacts struct {
	client       kubernetes.Interface
	nodes        cache.SharedIndexInformer
	kubernetes   informers.SharedInformerFactory // default/kubernetes only
	services     cache.SharedIndexInformer
	slices       cache.SharedIndexInformer
	serviceCIDRs atomic.Pointer[cache.SharedIndexInformer]
	certSANs     atomic.Pointer[[]csr.SAN]
	started      atomic.Bool
	synced       atomic.Bool
}

// NewClusterFacts reads Nodes from nodes (a factory's Core().V1().Nodes().Informer(),
// not yet started: it gets an index and SlimNode as its transform) and the rest through
// client. The client needs list and watch on nodes and servicecidrs, get, list and watch
// on the kubernetes Service and EndpointSlice in namespace default.
func NewClusterFacts(client kubernetes.Interface, nodes cache.SharedIndexInformer) (*ClusterFacts, error) {
	if client == nil || nodes == nil {
		return nil, errors.New("approve: NewClusterFacts needs a client and a Node informer")
	}
	if err := nodes.SetTransform(SlimNode); err != nil {
		return nil, fmt.Errorf("approve: the Node informer must not have started: %w", err)
	}
	if err := nodes.AddIndexers(cache.Indexers{nodeSANIndex: indexNodeSANs, nodePodCIDRIndex: indexNodePodCIDRs}); err != nil {
		return nil, fmt.Errorf("approve: indexing Nodes: %w", err)
	}
	kube := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(metav1.NamespaceDefault),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = "metadata.name=kubernetes" }))
	return &ClusterFacts{
		client:     client,
		nodes:      nodes,
		kubernetes: kube,
		services:   kube.Core().V1().Services().Informer(),
		slices:     kube.Discovery().V1().EndpointSlices().Informer(),
	}, nil
}

// SlimNode is the Node informer's transform: it keeps what serving approval reads (name,
// labels, status.addresses, spec.podCIDRs) and drops the rest (images, conditions,
// managedFields), which is most of a Node.
func SlimNode(obj any) (any, error) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return obj, nil
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: n.Name, UID: n.UID, ResourceVersion: n.ResourceVersion, Labels: n.Labels},
		Spec:       corev1.NodeSpec{PodCIDR: n.Spec.PodCIDR, PodCIDRs: n.Spec.PodCIDRs},
		Status:     corev1.NodeStatus{Addresses: n.Status.Addresses},
	}, nil
}

func indexNodeSANs(obj any) ([]string, error) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return nil, nil
	}
	return nodeSANKeys(n), nil
}

func indexNodePodCIDRs(obj any) ([]string, error) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return nil, nil
	}
	var keys []string
	for _, p := range nodePodCIDRs(n) {
		keys = append(keys, podCIDRKey(p))
	}
	return keys, nil
}

// Run starts the Service, EndpointSlice and ServiceCIDR watches (the Node informer is its
// factory's to start), reads the API server's certificate and again every
// apiServerCertificateRefresh, until ctx ends. It logs, and goes on without, what the API
// server does not serve (ServiceCIDRs before Kubernetes 1.33) or the client cannot read
// yet (the certificate is tried again at the next refresh).
func (f *ClusterFacts) Run(ctx context.Context) error {
	if !f.started.CompareAndSwap(false, true) {
		return errors.New("approve: ClusterFacts.Run called twice")
	}
	log := klog.FromContext(ctx).WithName("servingfacts")
	stopped := make(chan struct{})
	defer func() { <-stopped }()
	go func() { defer close(stopped); f.watchServiceCIDRs(ctx, log) }()
	f.kubernetes.Start(ctx.Done())
	defer f.kubernetes.Shutdown()
	for {
		next := apiServerCertificateRefresh
		if sans, err := f.readAPIServerCertificate(ctx); err != nil {
			log.Info("Could not read the API server's serving certificate; its names are not refused until it can be read",
				"retryIn", certificateRetry.String(), "error", err.Error())
			next = certificateRetry
		} else {
			f.certSANs.Store(&sans)
			log.V(2).Info("API server certificate read", "subjectAltNames", len(sans))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(next):
		}
	}
}

// watchServiceCIDRs watches ServiceCIDR objects once discovery says the API server
// serves them (retrying discovery itself while it fails), until ctx ends.
func (f *ClusterFacts) watchServiceCIDRs(ctx context.Context, log klog.Logger) {
	gv := networkingv1.SchemeGroupVersion.String()
	var served bool
	err := wait.PollUntilContextCancel(ctx, 10*time.Second, true, func(context.Context) (bool, error) {
		var err error
		if served, err = servesResource(f.client, gv, "servicecidrs"); err != nil {
			log.Info("Cannot tell whether the API server serves ServiceCIDRs; asking again", "groupVersion", gv, "error", err.Error())
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return
	}
	if !served {
		log.Info("ServiceCIDR API not served: Service ranges come from the serving policy's serviceCIDRs only", "groupVersion", gv)
		return
	}
	factory := informers.NewSharedInformerFactory(f.client, 0)
	inf := factory.Networking().V1().ServiceCIDRs().Informer()
	f.serviceCIDRs.Store(&inf)
	factory.Start(ctx.Done())
	<-ctx.Done()
	factory.Shutdown()
}

// HasSynced reports whether every watch has read its objects once (for
// ControllerOptions.CacheSyncs).
func (f *ClusterFacts) HasSynced() bool {
	if f.synced.Load() {
		return true
	}
	ok := f.started.Load() && f.nodes.HasSynced() && f.services.HasSynced() && f.slices.HasSynced()
	if inf := f.serviceCIDRs.Load(); ok && inf != nil {
		ok = (*inf).HasSynced()
	}
	if ok {
		f.synced.Store(true)
	}
	return ok
}

// getNode reads the Node from the informer's cache.
func (f *ClusterFacts) getNode(_ context.Context, name string) (*corev1.Node, error) {
	obj, exists, err := f.nodes.GetIndexer().GetByKey(name)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, errNodeNotFound(name)
	}
	return obj.(*corev1.Node), nil
}

// claims looks san up in the indexes and the watched objects.
func (f *ClusterFacts) claims(san csr.SAN) []addrClaim {
	var out []addrClaim
	idx := f.nodes.GetIndexer()
	if objs, err := idx.ByIndex(nodeSANIndex, sanKey(san)); err == nil {
		for _, o := range objs {
			out = append(out, addrClaim{Kind: claimNode, Name: o.(*corev1.Node).Name})
		}
	}
	if sans := f.certSANs.Load(); sans != nil {
		for _, s := range *sans {
			if s == san {
				out = append(out, addrClaim{Kind: claimAPIServerCertificate, Name: "kube-apiserver"})
			}
		}
	}
	addr, isIP := san.Addr()
	if !isIP {
		return out
	}
	// A Pod CIDR holding addr is one of addr's own prefixes: one lookup per length.
	for bits := addr.BitLen(); bits >= 0; bits-- {
		p := netip.PrefixFrom(addr, bits).Masked()
		objs, err := idx.ByIndex(nodePodCIDRIndex, podCIDRKey(p))
		if err != nil {
			break
		}
		for _, o := range objs {
			out = append(out, addrClaim{Kind: claimPodCIDR, Name: o.(*corev1.Node).Name, Detail: p.String()})
		}
	}
	for _, o := range f.services.GetStore().List() {
		svc := o.(*corev1.Service)
		out = append(out, addrClaims(addr, parseAddrs(svc.Spec.ClusterIPs), claimServiceIP, svc.Namespace+"/"+svc.Name)...)
	}
	if inf := f.serviceCIDRs.Load(); inf != nil {
		for _, o := range (*inf).GetStore().List() {
			sc := o.(*networkingv1.ServiceCIDR)
			for _, c := range sc.Spec.CIDRs {
				if p, err := netip.ParsePrefix(c); err == nil && p.Contains(addr) {
					out = append(out, addrClaim{Kind: claimServiceCIDR, Name: sc.Name, Detail: c})
				}
			}
		}
	}
	for _, o := range f.slices.GetStore().List() {
		es := o.(*discoveryv1.EndpointSlice)
		for _, ep := range es.Endpoints {
			out = append(out, addrClaims(addr, parseAddrs(ep.Addresses), claimAPIServerEndpoint, es.Namespace+"/"+es.Name)...)
		}
	}
	return out
}

func parseAddrs(list []string) []netip.Addr {
	out := make([]netip.Addr, 0, len(list))
	for _, s := range list {
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, a.Unmap())
		}
	}
	return out
}

// readAPIServerCertificate asks the API server for /version over the client's own
// connection and returns the SANs of the certificate it presented (none over plain HTTP).
func (f *ClusterFacts) readAPIServerCertificate(ctx context.Context) ([]csr.SAN, error) {
	rc, ok := f.client.Discovery().RESTClient().(*rest.RESTClient)
	if !ok || rc == nil || rc.Client == nil {
		return nil, errors.New("the client has no HTTP connection to read it from")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rc.Get().AbsPath("/version").URL().String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := rc.Client.Do(req)
	if err != nil {
		return nil, err
	}
	_ = resp.Body.Close()
	if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 {
		return nil, nil
	}
	leaf := resp.TLS.PeerCertificates[0]
	return csr.RequestSANs(leaf.DNSNames, leaf.IPAddresses), nil
}

// servesResource asks discovery, once, whether groupVersion has resource.
func servesResource(client kubernetes.Interface, groupVersion, resource string) (bool, error) {
	list, err := client.Discovery().ServerResourcesForGroupVersion(groupVersion)
	if err != nil {
		return false, err
	}
	for _, r := range list.APIResources {
		if r.Name == resource {
			return true, nil
		}
	}
	return false, nil
}
