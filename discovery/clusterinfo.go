package discovery

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	certutil "k8s.io/client-go/util/cert"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
)

// Where cluster-info lives and what it holds, as kubeadm and the bootstrap signer use it.
const (
	// Namespace is readable by everyone who is granted it; kube-public by convention.
	Namespace = metav1.NamespacePublic
	// ConfigMapName is the ConfigMap the node fetches anonymously.
	ConfigMapName = bootstrapapi.ConfigMapClusterInfo
	// KubeconfigKey holds the kubeconfig (server and CA, no credentials) that is signed.
	KubeconfigKey = bootstrapapi.KubeConfigKey
	// SignatureKeyPrefix precedes the token id in a signature's key.
	SignatureKeyPrefix = bootstrapapi.JWSSignatureKeyPrefix
)

// SignatureKey is the cluster-info data key holding the signature made with token id.
func SignatureKey(id string) string { return SignatureKeyPrefix + id }

// ClusterInfo is what a cluster-info kubeconfig says.
type ClusterInfo struct {
	// Server is the API server URL published for joining nodes.
	Server string
	// CAData is the CA bundle (PEM) that verifies Server.
	CAData []byte
	// CACerts are CAData's certificates, in order.
	CACerts []*x509.Certificate
}

// ClusterInfoKubeconfig serializes the kubeconfig kubeadm publishes in cluster-info: one
// cluster with an empty name holding server and the CA bundle caPEM, and no credentials.
func ClusterInfoKubeconfig(server string, caPEM []byte) ([]byte, error) {
	if err := checkServer(server); err != nil {
		return nil, fmt.Errorf("cluster-info kubeconfig: %w", err)
	}
	if _, err := certutil.ParseCertsPEM(caPEM); err != nil {
		return nil, fmt.Errorf("cluster-info kubeconfig: CA bundle: %w", err)
	}
	cfg := clientcmdapi.NewConfig()
	cluster := clientcmdapi.NewCluster()
	cluster.Server = server
	cluster.CertificateAuthorityData = caPEM
	cfg.Clusters[""] = cluster
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster-info kubeconfig: %w", err)
	}
	return data, nil
}

// ParseClusterInfo reads a cluster-info kubeconfig: it must hold exactly one cluster with
// an https (or http) server URL and an embedded CA bundle of at least one certificate.
func ParseClusterInfo(kubeconfig []byte) (*ClusterInfo, error) {
	if len(kubeconfig) == 0 {
		return nil, errors.New("cluster-info: kubeconfig is empty")
	}
	cfg, err := clientcmd.Load(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("cluster-info: parsing kubeconfig: %w", err)
	}
	if len(cfg.Clusters) != 1 {
		return nil, fmt.Errorf("cluster-info: kubeconfig has %d clusters, want exactly 1", len(cfg.Clusters))
	}
	var cluster *clientcmdapi.Cluster
	for _, c := range cfg.Clusters {
		cluster = c
	}
	if err := checkServer(cluster.Server); err != nil {
		return nil, fmt.Errorf("cluster-info: %w", err)
	}
	if len(cluster.CertificateAuthorityData) == 0 {
		return nil, errors.New("cluster-info: kubeconfig has no certificate-authority-data")
	}
	certs, err := certutil.ParseCertsPEM(cluster.CertificateAuthorityData)
	if err != nil {
		return nil, fmt.Errorf("cluster-info: certificate-authority-data: %w", err)
	}
	return &ClusterInfo{Server: cluster.Server, CAData: cluster.CertificateAuthorityData, CACerts: certs}, nil
}

func checkServer(server string) error {
	if server == "" {
		return errors.New("server URL is empty")
	}
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("server URL %q: want https://host[:port]", server)
	}
	return nil
}
