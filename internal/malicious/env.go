package malicious

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// ReadEnv reads the cluster's Env: the default/kubernetes Service's ClusterIP (waiting up
// to 20s for the API server to create it and its EndpointSlice), the "kubernetes"
// ServiceCIDR's first range (empty when it is not served), the API server's addresses and
// its certificate's IPs.
func ReadEnv(ctx context.Context, admin kubernetes.Interface) (Env, error) {
	var env Env
	deadline := time.Now().Add(20 * time.Second)
	for {
		svc, err := admin.CoreV1().Services(metav1.NamespaceDefault).Get(ctx, "kubernetes", metav1.GetOptions{})
		if err == nil && svc.Spec.ClusterIP != "" {
			if _, perr := netip.ParseAddr(svc.Spec.ClusterIP); perr != nil {
				return Env{}, fmt.Errorf("the kubernetes Service's ClusterIP %q: %w", svc.Spec.ClusterIP, perr)
			}
			env.KubernetesServiceIP = svc.Spec.ClusterIP
			break
		}
		if time.Now().After(deadline) {
			return Env{}, fmt.Errorf("reading the default/kubernetes Service: %v", err)
		}
		select {
		case <-ctx.Done():
			return Env{}, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	if sc, err := admin.NetworkingV1().ServiceCIDRs().Get(ctx, "kubernetes", metav1.GetOptions{}); err == nil && len(sc.Spec.CIDRs) > 0 {
		env.ServiceCIDR = sc.Spec.CIDRs[0]
	}
	for {
		slices, err := admin.DiscoveryV1().EndpointSlices(metav1.NamespaceDefault).List(ctx,
			metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=kubernetes"})
		if err == nil {
			for _, es := range slices.Items {
				for _, ep := range es.Endpoints {
					env.APIServerIPs = append(env.APIServerIPs, ep.Addresses...)
				}
			}
		}
		if len(env.APIServerIPs) > 0 {
			break
		}
		if time.Now().After(deadline) {
			return Env{}, fmt.Errorf("reading the default/kubernetes EndpointSlices: none found (%v)", err)
		}
		select {
		case <-ctx.Done():
			return Env{}, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	certIPs, err := apiServerCertificateIPs(ctx, admin)
	if err != nil {
		return Env{}, err
	}
	env.APIServerIPs = append(env.APIServerIPs, certIPs...)
	return env, nil
}

// apiServerCertificateIPs are the IP SANs of the certificate the API server presents on
// the client's connection (none over plain HTTP).
func apiServerCertificateIPs(ctx context.Context, admin kubernetes.Interface) ([]string, error) {
	rc, ok := admin.Discovery().RESTClient().(*rest.RESTClient)
	if !ok || rc == nil || rc.Client == nil {
		return nil, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rc.Get().AbsPath("/version").URL().String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := rc.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading the API server's certificate: %w", err)
	}
	_ = resp.Body.Close()
	if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 {
		return nil, nil
	}
	var out []string
	for _, ip := range resp.TLS.PeerCertificates[0].IPAddresses {
		out = append(out, ip.String())
	}
	return out, nil
}
