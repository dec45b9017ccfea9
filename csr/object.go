package csr

import (
	"crypto"
	"net"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// generateNamePrefix is used when a Spec has no Name, as client-go does.
const generateNamePrefix = "csr-"

// Spec describes a CertificateSigningRequest to create.
type Spec struct {
	// Name of the object. Empty: the server generates one from generateNamePrefix.
	Name string
	// Request is the PEM "CERTIFICATE REQUEST".
	Request []byte
	// SignerName, e.g. certificatesv1.KubeAPIServerClientKubeletSignerName.
	SignerName string
	// Usages requested; the server requires at least one.
	Usages []certificatesv1.KeyUsage
	// ExpirationSeconds asks for a certificate lifetime (nil: the signer's default; the
	// server rejects values under 600). See DurationSeconds.
	ExpirationSeconds *int32
}

// New builds the certificates.k8s.io/v1 object for s. It does not contact the server.
func New(s Spec) *certificatesv1.CertificateSigningRequest {
	obj := &certificatesv1.CertificateSigningRequest{
		TypeMeta: metav1.TypeMeta{APIVersion: certificatesv1.SchemeGroupVersion.String(), Kind: "CertificateSigningRequest"},
		ObjectMeta: metav1.ObjectMeta{
			Name: s.Name,
		},
		Spec: certificatesv1.CertificateSigningRequestSpec{
			Request:           s.Request,
			SignerName:        s.SignerName,
			Usages:            s.Usages,
			ExpirationSeconds: s.ExpirationSeconds,
		},
	}
	if s.Name == "" {
		obj.GenerateName = generateNamePrefix
	}
	return obj
}

// DurationSeconds converts a requested certificate lifetime to spec.expirationSeconds
// (whole seconds; nil for d <= 0, meaning the signer's default).
func DurationSeconds(d time.Duration) *int32 {
	if d <= 0 {
		return nil
	}
	s := d / time.Second
	if s > 1<<31-1 {
		s = 1<<31 - 1
	}
	v := int32(s)
	return &v
}

// NodeClientSpec is the Spec the kubelet submits to bootstrap its client certificate:
// nodeClientRequest signed by key, NodeClientUsages, the kube-apiserver-client-kubelet
// signer, and the deterministic NodeCSRName, so a retry with the same key finds the same
// CSR. expirationSeconds may be nil.
func NodeClientSpec(nodeName string, key crypto.Signer, expirationSeconds *int32) (Spec, error) {
	req, err := nodeClientRequest(nodeName, key)
	if err != nil {
		return Spec{}, err
	}
	usages := NodeClientUsages(key.Public())
	name, err := NodeCSRName(key.Public(), NodeSubject(nodeName), usages)
	if err != nil {
		return Spec{}, err
	}
	return Spec{
		Name:              name,
		Request:           req,
		SignerName:        certificatesv1.KubeAPIServerClientKubeletSignerName,
		Usages:            usages,
		ExpirationSeconds: expirationSeconds,
	}, nil
}

// NodeServingSpec is the Spec of a kubelet serving certificate request (signer
// kubelet-serving, nodeServingUsages). Like the kubelet's rotation requests it has no
// fixed name: the server generates one.
func NodeServingSpec(nodeName string, dnsNames []string, ips []net.IP, key crypto.Signer, expirationSeconds *int32) (Spec, error) {
	req, err := nodeServingRequest(nodeName, dnsNames, ips, key)
	if err != nil {
		return Spec{}, err
	}
	return Spec{
		Request:           req,
		SignerName:        certificatesv1.KubeletServingSignerName,
		Usages:            nodeServingUsages(key.Public()),
		ExpirationSeconds: expirationSeconds,
	}, nil
}
