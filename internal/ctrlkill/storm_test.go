package ctrlkill_test

import (
	"context"
	"crypto"
	"crypto/x509/pkix"
	"fmt"
	"sync"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/rbac"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// Identities the storm's CSRs are created as (by impersonation: the API server records
// them in spec.username/groups, which is what the approver authorizes).
const (
	bootstrapUser = "system:bootstrap:abcdef"
	// creatorUser is a bootstrap-looking user outside system:bootstrappers whose group may
	// create CSRs but not have them approved.
	creatorUser  = "system:bootstrap:zzzzzz"
	creatorGroup = "tlsbootstrap:ctrlkill:creators"
)

// grantOnce applies the RBAC of a seed cluster (bootstrappers create and have nodeclient
// CSRs approved, nodes their renewals) and the create-only grant of creatorGroup.
var grantOnce sync.Once

func grant(t *testing.T) {
	t.Helper()
	var err error
	grantOnce.Do(func() {
		p := rbac.SeedPreset(rbac.SeedOptions{}).Merge(rbac.NodeBootstrapperPreset(rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: creatorGroup}))
		err = rbac.Apply(context.Background(), cp.Client(), p)
	})
	must(t, err, "granting the storm's identities")
}

// request is one CSR of the storm.
type request struct {
	name string
	// bad says why the CSR must never be approved; empty for a legitimate request.
	bad    string
	key    crypto.Signer
	obj    *certificatesv1.CertificateSigningRequest
	client kubernetes.Interface
}

// badKinds are the requests mixed into a storm that must stay unapproved, each built for
// the i-th bad request of a storm with prefix.
var badKinds = []struct {
	why   string
	build func(t *testing.T, prefix string, i int, key crypto.Signer, ids identities) (*certificatesv1.CertificateSigningRequest, kubernetes.Interface)
}{
	{"organization system:masters besides system:nodes", func(t *testing.T, prefix string, i int, key crypto.Signer, ids identities) (*certificatesv1.CertificateSigningRequest, kubernetes.Interface) {
		subject := csr.NodeSubject(fmt.Sprintf("%s-org%d", prefix, i))
		subject.Organization = append(subject.Organization, "system:masters")
		return clientCSR(t, subject, key, nil, csr.RequestOptions{}), ids.bootstrap
	}},
	{"server auth usage besides client auth", func(t *testing.T, prefix string, i int, key crypto.Signer, ids identities) (*certificatesv1.CertificateSigningRequest, kubernetes.Interface) {
		extra := []certificatesv1.KeyUsage{certificatesv1.UsageServerAuth}
		return clientCSR(t, csr.NodeSubject(fmt.Sprintf("%s-usage%d", prefix, i)), key, extra, csr.RequestOptions{}), ids.bootstrap
	}},
	{"common name of a user that is no node", func(t *testing.T, prefix string, i int, key crypto.Signer, ids identities) (*certificatesv1.CertificateSigningRequest, kubernetes.Interface) {
		subject := csr.NodeSubject(fmt.Sprintf("%s-cn%d", prefix, i))
		subject.CommonName = fmt.Sprintf("system:admin-%s-%d", prefix, i)
		return clientCSR(t, subject, key, nil, csr.RequestOptions{}), ids.bootstrap
	}},
	{"DNS name in a client request", func(t *testing.T, prefix string, i int, key crypto.Signer, ids identities) (*certificatesv1.CertificateSigningRequest, kubernetes.Interface) {
		return clientCSR(t, csr.NodeSubject(fmt.Sprintf("%s-san%d", prefix, i)), key, nil, csr.RequestOptions{DNSNames: []string{"kubernetes.default"}}), ids.bootstrap
	}},
	{"requester may create CSRs but has no nodeclient grant", func(t *testing.T, prefix string, i int, key crypto.Signer, ids identities) (*certificatesv1.CertificateSigningRequest, kubernetes.Interface) {
		return clientCSR(t, csr.NodeSubject(fmt.Sprintf("%s-nogrant%d", prefix, i)), key, nil, csr.RequestOptions{}), ids.creator
	}},
}

// identities are the clients the storm creates CSRs with. A node asking for another node's
// certificate is not among them: NodeRestriction refuses it at create, so it never reaches
// the controller.
type identities struct {
	bootstrap, creator kubernetes.Interface
}

func newIdentities(t *testing.T, prefix string) identities {
	t.Helper()
	client := func(user string, groups ...string) kubernetes.Interface {
		cfg := cp.ImpersonatingConfig(user, groups...)
		cfg.QPS, cfg.Burst = 300, 600
		c, err := kubernetes.NewForConfig(cfg)
		must(t, err, "client for %s", user)
		return c
	}
	return identities{
		bootstrap: client(bootstrapUser, token.DefaultGroup),
		creator:   client(creatorUser, creatorGroup),
	}
}

// clientCSR is a kube-apiserver-client-kubelet CSR for subject (and the SANs of sans) with
// the kubelet's client usages plus extra.
func clientCSR(t *testing.T, subject pkix.Name, key crypto.Signer, extra []certificatesv1.KeyUsage, sans csr.RequestOptions) *certificatesv1.CertificateSigningRequest {
	t.Helper()
	sans.Subject = subject
	pemReq, err := csr.NewRequest(sans, key)
	must(t, err, "request for %s", subject.CommonName)
	return csr.New(csr.Spec{
		Request:    pemReq,
		SignerName: certificatesv1.KubeAPIServerClientKubeletSignerName,
		Usages:     append(csr.NodeClientUsages(key.Public()), extra...),
	})
}

// newStorm builds n legitimate kubelet client CSRs named <prefix>-NNNN and, after every
// 20th, one bad CSR named <prefix>-bad-NNN (at least one of each bad kind).
func newStorm(t *testing.T, prefix string, n int) []*request {
	t.Helper()
	ids := newIdentities(t, prefix)
	nBad := max(n/20, len(badKinds))
	reqs := make([]*request, 0, n+nBad)
	bad := 0
	for i := range n {
		key, err := csr.GenerateKey("")
		must(t, err, "key")
		nodeName := fmt.Sprintf("%s-n%04d", prefix, i)
		spec, err := csr.NodeClientSpec(nodeName, key, nil)
		must(t, err, "spec for %s", nodeName)
		spec.Name = fmt.Sprintf("%s-%04d", prefix, i)
		reqs = append(reqs, &request{name: spec.Name, key: key, obj: csr.New(spec), client: ids.bootstrap})
		if (i+1)%(n/nBad) == 0 && bad < nBad {
			reqs = append(reqs, newBad(t, prefix, bad, ids))
			bad++
		}
	}
	for ; bad < nBad; bad++ {
		reqs = append(reqs, newBad(t, prefix, bad, ids))
	}
	return reqs
}

func newBad(t *testing.T, prefix string, i int, ids identities) *request {
	t.Helper()
	kind := badKinds[i%len(badKinds)]
	key, err := csr.GenerateKey("")
	must(t, err, "key")
	obj, client := kind.build(t, prefix, i, key, ids)
	obj.GenerateName, obj.Name = "", fmt.Sprintf("%s-bad-%03d", prefix, i)
	return &request{name: obj.Name, bad: kind.why, key: key, obj: obj, client: client}
}

// create submits every request with workers goroutines, in order, and returns the first
// errors (every create must succeed: a refused one is a broken setup, not a result).
func create(ctx context.Context, reqs []*request, workers int) []error {
	next := make(chan *request)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for r := range next {
				_, err := r.client.CertificatesV1().CertificateSigningRequests().Create(ctx, r.obj, metav1.CreateOptions{})
				if err != nil {
					mu.Lock()
					if len(errs) < 5 {
						errs = append(errs, fmt.Errorf("creating %s: %w", r.name, err))
					}
					mu.Unlock()
				}
			}
		})
	}
	for _, r := range reqs {
		if ctx.Err() != nil {
			break
		}
		next <- r
	}
	close(next)
	wg.Wait()
	return errs
}

func countLegit(reqs []*request) (legit, bad int) {
	for _, r := range reqs {
		if r.bad == "" {
			legit++
		} else {
			bad++
		}
	}
	return legit, bad
}
