package malicious

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"sort"
	"sync"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

// Options configure Run.
type Options struct {
	// Admin is a cluster-admin config: it creates Nodes, approves the AdminApproves cases
	// and reads results. Cases are submitted with copies of it that impersonate.
	Admin *rest.Config
	// CA is the certificate the controller signs with; issued certificates must chain to it.
	CA *x509.Certificate
	// Timeout bounds the wait for every case to settle. Default 40s.
	Timeout time.Duration
	// Settle is how long cases expected to stay unapproved are watched after the others are
	// done. Default 3s.
	Settle time.Duration
	// Concurrency of submissions. Default 16.
	Concurrency int
}

// Result is what one case ended in.
type Result struct {
	Case Case
	// Got is the outcome observed; Detail says why (the create error or the condition).
	Got    Outcome
	Detail string
	// CSRName of the stored CSR (empty when rejected at create).
	CSRName string
	// CertProblem is non-empty when an issued certificate breaks a check.
	CertProblem string
}

// Wrong reports whether the case ended outside its expected outcomes or with a bad
// certificate.
func (r Result) Wrong() bool { return !r.Case.Want.Allows(r.Got) || r.CertProblem != "" }

// Report sums a run.
type Report struct {
	Results []Result
	// Cases submitted; WrongApprovals: approved though no approval was acceptable;
	// WrongSignatures: signed though signing was not acceptable, or a certificate failing
	// the checks; Unexpected: any other outcome outside the case's set (e.g. a valid
	// request left pending).
	Cases, WrongApprovals, WrongSignatures, Unexpected int
	// Issued certificates checked.
	Issued int
}

// Run submits every case and waits for the controller already running against the cluster
// to decide them. It returns an error only when it cannot run (setup or listing fails).
func Run(ctx context.Context, cases []Case, opts Options) (*Report, error) {
	if opts.Admin == nil || opts.CA == nil {
		return nil, fmt.Errorf("malicious.Run: Admin and CA are required")
	}
	if opts.Timeout == 0 {
		opts.Timeout = 40 * time.Second
	}
	if opts.Settle == 0 {
		opts.Settle = 3 * time.Second
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = 16
	}
	admin, err := kubernetes.NewForConfig(opts.Admin)
	if err != nil {
		return nil, fmt.Errorf("admin client: %w", err)
	}
	if err := Setup(ctx, admin); err != nil {
		return nil, err
	}
	results := make([]Result, len(cases))
	sem := make(chan struct{}, opts.Concurrency)
	var wg sync.WaitGroup
	var setupErr error
	var mu sync.Mutex
	for i := range cases {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			r, err := submit(ctx, admin, opts.Admin, cases[i], i)
			if err != nil {
				mu.Lock()
				setupErr = err
				mu.Unlock()
			}
			results[i] = r
		}(i)
	}
	wg.Wait()
	if setupErr != nil {
		return nil, setupErr
	}
	if err := await(ctx, admin, results, opts); err != nil {
		return nil, err
	}
	rep := &Report{Results: results, Cases: len(results)}
	for i := range results {
		r := &results[i]
		if r.Got == Signed {
			rep.Issued++
		}
		switch {
		case r.CertProblem != "":
			rep.WrongSignatures++
		case r.Case.Want.Allows(r.Got):
		case r.Got == Signed && r.Case.Want&Signed == 0:
			rep.WrongSignatures++
			if !r.Case.Want.approved() {
				rep.WrongApprovals++
			}
		case r.Got == Approved && !r.Case.Want.approved():
			rep.WrongApprovals++
		default:
			rep.Unexpected++
		}
	}
	return rep, nil
}

// submit creates the case's Node (for serving cases) and CSR as the case's identity.
func submit(ctx context.Context, admin kubernetes.Interface, adminCfg *rest.Config, c Case, i int) (Result, error) {
	res := Result{Case: c}
	if c.ServingNode != "" {
		if err := ensureNode(ctx, admin, c.ServingNode); err != nil {
			return res, err
		}
	}
	cfg := rest.CopyConfig(adminCfg)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: c.As.User, Groups: c.As.Groups}
	as, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return res, fmt.Errorf("client for %s: %w", c.As.User, err)
	}
	obj := &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{GenerateName: fmt.Sprintf("malicious-%03d-", i)},
		Spec: certificatesv1.CertificateSigningRequestSpec{
			Request: c.Request, SignerName: c.SignerName, Usages: c.Usages, ExpirationSeconds: c.ExpirationSeconds,
		},
	}
	created, err := as.CertificatesV1().CertificateSigningRequests().Create(ctx, obj, metav1.CreateOptions{})
	if err != nil {
		res.Got, res.Detail = RejectedAtCreate, truncate(err.Error(), 160)
		return res, nil
	}
	res.CSRName = created.Name
	if c.AdminApproves {
		if err := approve.Approve(ctx, admin, created.Name, "MaliciousCorpus", "approved blindly by the corpus"); err != nil {
			return res, fmt.Errorf("case %s: admin approve: %w", c.Name, err)
		}
	}
	return res, nil
}

func ensureNode(ctx context.Context, admin kubernetes.Interface, name string) error {
	node, err := admin.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("creating Node %s: %w", name, err)
	}
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ServingIP}, {Type: corev1.NodeHostName, Address: name}}
	if _, err := admin.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("setting addresses of Node %s: %w", name, err)
	}
	return nil
}

// await polls the stored CSRs until every case that may be signed or approved is decided
// (or the timeout passes), then watches Settle longer so a late wrong approval is seen.
func await(ctx context.Context, admin kubernetes.Interface, results []Result, opts Options) error {
	deadline := time.Now().Add(opts.Timeout)
	var settleUntil time.Time
	for {
		list, err := admin.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
		if err != nil {
			return fmt.Errorf("listing CSRs: %w", err)
		}
		byName := map[string]*certificatesv1.CertificateSigningRequest{}
		for i := range list.Items {
			byName[list.Items[i].Name] = &list.Items[i]
		}
		pending := 0
		for i := range results {
			r := &results[i]
			if r.CSRName == "" {
				continue
			}
			obj := byName[r.CSRName]
			if obj == nil {
				return fmt.Errorf("CSR %s of case %s disappeared", r.CSRName, r.Case.Name)
			}
			r.Got, r.Detail = outcomeOf(obj)
			if r.Got == Signed {
				r.CertProblem = checkCertificate(obj, opts.CA)
			}
			// Still waiting: a case that may end approved or signed and has not got there.
			if r.Case.Want.approved() && r.Got != Signed && !(r.Got == Approved && r.Detail != "") {
				pending++
			}
		}
		now := time.Now()
		if pending == 0 && settleUntil.IsZero() {
			settleUntil = now.Add(opts.Settle)
		}
		if (!settleUntil.IsZero() && now.After(settleUntil)) || now.After(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// outcomeOf reads a stored CSR's state; Detail is the deciding condition's message.
func outcomeOf(obj *certificatesv1.CertificateSigningRequest) (Outcome, string) {
	var approved bool
	var detail string
	for _, c := range obj.Status.Conditions {
		switch c.Type {
		case certificatesv1.CertificateApproved:
			approved = true
		case certificatesv1.CertificateDenied, certificatesv1.CertificateFailed:
			detail = string(c.Type) + ": " + truncate(c.Message, 160)
		}
	}
	switch {
	case len(obj.Status.Certificate) > 0:
		return Signed, ""
	case approved:
		return Approved, detail
	default:
		return NotApproved, detail
	}
}

// checkCertificate returns what is wrong with an issued certificate, or "".
func checkCertificate(obj *certificatesv1.CertificateSigningRequest, ca *x509.Certificate) string {
	block, rest := pem.Decode(obj.Status.Certificate)
	if block == nil || block.Type != "CERTIFICATE" {
		return "status.certificate is not a PEM certificate"
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return "status.certificate holds more than one block"
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return "certificate does not parse: " + err.Error()
	}
	if cert.IsCA {
		return "certificate is a CA"
	}
	if err := cert.CheckSignatureFrom(ca); err != nil {
		return "certificate does not chain to the signing CA: " + err.Error()
	}
	reqBlock, _ := pem.Decode(obj.Spec.Request)
	if reqBlock == nil {
		return "signed a request that is not PEM"
	}
	req, err := x509.ParseCertificateRequest(reqBlock.Bytes)
	if err != nil || req.CheckSignature() != nil {
		return "signed a request that does not parse or verify"
	}
	if !bytes.Equal(cert.RawSubjectPublicKeyInfo, req.RawSubjectPublicKeyInfo) {
		return "certificate key differs from the request's"
	}
	ku, eku, err := sign.KeyUsages(obj.Spec.Usages)
	if err != nil {
		return "signed with usages that do not map: " + err.Error()
	}
	if cert.KeyUsage != ku {
		return fmt.Sprintf("key usage %v, requested %v", cert.KeyUsage, obj.Spec.Usages)
	}
	if !sameEKU(cert.ExtKeyUsage, eku) || len(cert.UnknownExtKeyUsage) > 0 {
		return fmt.Sprintf("extended key usage %v, requested %v", cert.ExtKeyUsage, obj.Spec.Usages)
	}
	for _, ext := range cert.Extensions {
		for _, bad := range []string{oidPrivate.String(), oidNameConstraints.String()} {
			if ext.Id.String() == bad {
				return "certificate carries the request's extension " + bad
			}
		}
	}
	return ""
}

func sameEKU(a, b []x509.ExtKeyUsage) bool {
	a, b = append([]x509.ExtKeyUsage(nil), a...), append([]x509.ExtKeyUsage(nil), b...)
	sort.Slice(a, func(i, j int) bool { return a[i] < a[j] })
	sort.Slice(b, func(i, j int) bool { return b[i] < b[j] })
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
