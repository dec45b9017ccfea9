package malicious

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
	"github.com/tlsbootstrap/tlsbootstrap/csr"
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
	// DenialProblem is non-empty when the case names a DenyRule and the CSR did not end
	// Denied by it.
	DenialProblem string
}

// Wrong reports whether the case ended outside its expected outcomes, with a bad
// certificate, or not denied by the rule it names.
func (r Result) Wrong() bool {
	return !r.Case.Want.Allows(r.Got) || r.CertProblem != "" || r.DenialProblem != ""
}

// Report sums a run.
type Report struct {
	Results []Result
	// Cases submitted; WrongApprovals: approved though no approval was acceptable;
	// WrongSignatures: signed though signing was not acceptable, or a certificate failing
	// the checks; Unexpected: any other outcome outside the case's set (e.g. a valid
	// request left pending, or a spoofing case denied by another rule than its own).
	Cases, WrongApprovals, WrongSignatures, Unexpected int
	// NotIssued counts legitimate requests (cases that want Signed and nothing else) that
	// got no certificate; each is also counted in Unexpected.
	NotIssued int
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
	nodes, err := runNodes(cases)
	if err != nil {
		return nil, err
	}
	if err := checkNodesFree(ctx, admin, cases); err != nil {
		return nil, err
	}
	// The Nodes go when the run ends, so that the next run's addresses are free.
	defer deleteNodes(admin, nodes)
	if err := createNodes(ctx, admin, nodes); err != nil {
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
		if r.Case.Want == Signed && r.Got != Signed {
			rep.NotIssued++
		}
		switch {
		case r.CertProblem != "":
			rep.WrongSignatures++
		case r.Case.Want.Allows(r.Got):
			if r.DenialProblem != "" {
				rep.Unexpected++
			}
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

// submit creates the case's CSR as the case's identity (its Nodes exist already).
func submit(ctx context.Context, admin kubernetes.Interface, adminCfg *rest.Config, c Case, i int) (Result, error) {
	res := Result{Case: c}
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

// runNodes lists the Nodes of all cases in order, each once; a name given two different
// specs is a corpus bug.
func runNodes(cases []Case) ([]NodeSpec, error) {
	var out []NodeSpec
	seen := map[string]int{}
	for _, c := range cases {
		for _, n := range c.Nodes {
			if i, ok := seen[n.Name]; ok {
				if !reflect.DeepEqual(out[i], n) {
					return nil, fmt.Errorf("case %s: Node %s is given two different specs", c.Name, n.Name)
				}
				continue
			}
			seen[n.Name] = len(out)
			out = append(out, n)
		}
	}
	return out, nil
}

// checkNodesFree refuses to run when a Node already in the cluster (left by an earlier
// run, or a real one) or the API server or the kubernetes Service holds a name or address
// that a Node of a legitimate case needs: that case would be denied and the run would
// prove nothing (build the cases with CasesFor(prefix, ReadEnv(...)) to avoid the API
// server's addresses).
func checkNodesFree(ctx context.Context, admin kubernetes.Interface, cases []Case) error {
	list, err := admin.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing Nodes: %w", err)
	}
	held := map[csr.SAN]string{}
	for _, n := range list.Items {
		for san := range (NodeSpec{Name: n.Name, Addresses: n.Status.Addresses}).sans() {
			held[san] = "Node " + n.Name + " in the cluster"
		}
	}
	env, err := ReadEnv(ctx, admin)
	if err != nil {
		return err
	}
	for _, ip := range append([]string{env.KubernetesServiceIP}, env.APIServerIPs...) {
		if san, ok := csr.IPSAN(net.ParseIP(ip)); ok {
			held[san] = "the API server or the kubernetes Service"
		}
	}
	for _, c := range cases {
		if !c.Want.approved() {
			continue
		}
		for _, n := range c.Nodes {
			for san := range n.sans() {
				if other, ok := held[san]; ok {
					return fmt.Errorf("case %s needs %s for Node %s, but %s holds it (a Node left by an earlier run? kubectl delete nodes -l %s)",
						c.Name, san, n.Name, other, CorpusNodeLabel)
				}
			}
		}
	}
	return nil
}

// createNodes creates the Nodes in order, status included: every Node is complete in the
// controller's cache when it first appears there, and a victim is there before its
// attacker (one watch delivers them in order).
func createNodes(ctx context.Context, admin kubernetes.Interface, nodes []NodeSpec) error {
	for _, n := range nodes {
		created, err := admin.CoreV1().Nodes().Create(ctx, n.object(), metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("creating Node %s: %w", n.Name, err)
		}
		if !reflect.DeepEqual(created.Status.Addresses, n.object().Status.Addresses) {
			return fmt.Errorf("Node %s was stored with addresses %v, want %v", n.Name, created.Status.Addresses, n.Addresses)
		}
	}
	return nil
}

// deleteNodes removes the run's Nodes (best effort: a Node left behind is reported by the
// next run's checkNodesFree).
func deleteNodes(admin kubernetes.Interface, nodes []NodeSpec) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, n := range nodes {
		_ = admin.CoreV1().Nodes().Delete(ctx, n.Name, metav1.DeleteOptions{})
	}
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
			denied := false
			if r.Case.DenyRule != "" {
				denied, r.DenialProblem = deniedBy(obj, r.Case.DenyRule)
			}
			// Still waiting: a case that may end approved or signed and has not got there, or
			// one that must be denied and is still pending.
			if r.Case.Want.approved() && r.Got != Signed && !(r.Got == Approved && r.Detail != "") {
				pending++
			}
			if r.Case.DenyRule != "" && r.Got == NotApproved && !denied {
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

// deniedBy reports whether the CSR holds the Denied condition, and what is wrong unless
// it was denied automatically (reason AutoDenied) with rule named in the message: as the
// rule that decided ("(rule X)") or among the further rules it breaks.
func deniedBy(obj *certificatesv1.CertificateSigningRequest, rule string) (denied bool, problem string) {
	if c := csr.Condition(obj, certificatesv1.CertificateDenied); c != nil {
		if c.Reason != approve.ReasonAutoDenied {
			return true, fmt.Sprintf("denied with reason %q, want %s", c.Reason, approve.ReasonAutoDenied)
		}
		rules := deniedRules(c.Message)
		if !slices.Contains(rules, rule) {
			return true, fmt.Sprintf("denied by rule(s) %v, not by %s", rules, rule)
		}
		return true, ""
	}
	return false, "not denied (want rule " + rule + ")"
}

var (
	deciderRule = regexp.MustCompile(`^Denying kubelet serving certificate of node "[^"]*" \(rule (\w+)\)`)
	furtherRule = regexp.MustCompile(`It also breaks rule\(s\) ([\w, ]+)\.$`)
)

// deniedRules are the serving rules a Denied message names: the deciding one first.
func deniedRules(msg string) []string {
	var rules []string
	if m := deciderRule.FindStringSubmatch(msg); m != nil {
		rules = append(rules, m[1])
	}
	if m := furtherRule.FindStringSubmatch(msg); m != nil {
		for _, r := range strings.Split(m[1], ",") {
			rules = append(rules, strings.TrimSpace(r))
		}
	}
	return rules
}

// outcomeOf reads a stored CSR's state; Detail is the deciding condition's message.
func outcomeOf(obj *certificatesv1.CertificateSigningRequest) (Outcome, string) {
	var detail string
	for _, t := range []certificatesv1.RequestConditionType{certificatesv1.CertificateDenied, certificatesv1.CertificateFailed} {
		if c := csr.Condition(obj, t); c != nil {
			detail = string(c.Type) + ": " + truncate(c.Message, 160)
		}
	}
	switch st := csr.StateOf(obj); {
	case st.Issued:
		return Signed, ""
	case st.Approved:
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
