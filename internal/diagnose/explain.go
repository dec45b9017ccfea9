package diagnose

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/internal/serial"
	"github.com/tlsbootstrap/tlsbootstrap/rbac"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// DefaultServedSigners are the signers kube-controller-manager (or this project's
// controller) signs for when given one cluster CA: the built-in signers that can be
// created in certificates.k8s.io/v1.
var DefaultServedSigners = []string{
	certificatesv1.KubeAPIServerClientKubeletSignerName,
	certificatesv1.KubeletServingSignerName,
	certificatesv1.KubeAPIServerClientSignerName,
}

// Where the API server publishes the CAs it trusts for client certificates.
const (
	clientCAConfigMapNamespace = "kube-system"
	clientCAConfigMap          = "extension-apiserver-authentication"
	clientCAKey                = "client-ca-file"
)

// clockSkewTolerance is the disagreement tolerated beyond csr.Backdate (the API server's
// timestamps have one-second precision, and signing follows approval).
const clockSkewTolerance = time.Minute

// Options configure Explain. The zero value explains with Kubernetes' defaults.
type Options struct {
	// Authorizer asks whether the requester may have each recognized kind auto-approved.
	// Default: NewSARAuthorizer with no cache (the caller needs create on
	// subjectaccessreviews).
	Authorizer approve.Authorizer
	// ServingApproval says the cluster's approver approves kubelet serving CSRs (this
	// project's servingapproving controller). Kubernetes never does; default false.
	ServingApproval bool
	// SignerNames are the signers some process in the cluster signs for. Explain cannot
	// see other processes, so it takes this list on trust. Default DefaultServedSigners.
	SignerNames []string
	// Now is the clock used for ages and validity. Default time.Now.
	Now func() time.Time
}

// Finding is one thing wrong with a CSR and what to do about it.
type Finding struct {
	// Problem says what is wrong, with the names and values involved.
	Problem string
	// Fix says what to do, as a command or a concrete change where one exists.
	Fix string
}

// KindReview is the SubjectAccessReview answer for one kind a CSR is recognized as.
type KindReview struct {
	Kind    approve.Kind
	Allowed bool
	// Reason is the authorizer's reason (for RBAC, the binding that allowed it).
	Reason string
	// Skipped says why no review was asked (serving approval off), when set.
	Skipped string
}

// IssuedCertificate describes the certificate of an issued CSR.
type IssuedCertificate struct {
	Serial              string // decimal, as openssl and the logs print it
	Subject, Issuer     string
	NotBefore, NotAfter time.Time
	// IssuedAt is the API server's time of the write that added the certificate (from
	// managedFields); zero when unknown.
	IssuedAt time.Time
	// TrustedByAPIServer says whether the certificate verifies against the CAs the API
	// server accepts for client certificates; nil when not checked (not a client signer,
	// or the CA bundle could not be read: see TrustNote).
	TrustedByAPIServer *bool
	TrustNote          string
}

// Explanation is what Explain found about one CSR.
type Explanation struct {
	Name       string
	SignerName string
	Requester  string
	Groups     []string
	Created    time.Time
	// State is kubectl's condition column: Pending, Approved, Denied, with ",Failed" and
	// ",Issued" appended when they apply.
	State string
	// Kinds the CSR is recognized as, and NotRecognized why it is not of the others; both
	// empty when spec.request does not parse (see Findings).
	Kinds         []approve.Kind
	NotRecognized []*approve.NotRecognizedError
	// Reviews holds, for a Pending CSR, the SubjectAccessReview answer per recognized kind.
	Reviews []KindReview
	// SignerServed says whether SignerName is among Options.SignerNames;
	// SignerNames is that list.
	SignerServed bool
	SignerNames  []string
	// Decision is the Approved or Denied condition, and DecidedBy the field manager that
	// wrote it (the approver's user agent); empty while Pending.
	Decision  *certificatesv1.CertificateSigningRequestCondition
	DecidedBy string
	// Failure is the Failed condition, if any.
	Failure *certificatesv1.CertificateSigningRequestCondition
	// Certificate describes status.certificate once issued.
	Certificate *IssuedCertificate
	// Findings are the problems found and their fixes, most important first. Empty means
	// nothing is wrong (an issued, trusted, valid certificate, or a CSR the approver will
	// approve on its next pass).
	Findings []Finding
}

// Explain answers "why is this CSR still Pending?" and "what did it get?" for the CSR
// name. For a Pending CSR: the kinds it is recognized as or the rules it breaks, the
// SubjectAccessReview answer for its requester per kind, whether a signer serves its
// signerName, and what to do. For a decided one: who approved or denied it and why; for
// an issued one the certificate's serial, validity and issuer, whether the API server
// trusts that issuer for client certificates, and signs of clock skew. The client needs
// get on certificatesigningrequests and create on subjectaccessreviews; reading
// kube-system/extension-apiserver-authentication is optional.
func Explain(ctx context.Context, client kubernetes.Interface, name string, opts Options) (*Explanation, error) {
	if client == nil {
		return nil, errors.New("explain: nil client")
	}
	if opts.Authorizer == nil {
		opts.Authorizer = approve.NewSARAuthorizer(client, approve.SAROptions{CacheTTL: new(time.Duration(0))})
	}
	if opts.SignerNames == nil {
		opts.SignerNames = DefaultServedSigners
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	obj, err := client.CertificatesV1().CertificateSigningRequests().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("explaining CSR %q: %w", name, err)
	}
	e := &Explanation{
		Name: obj.Name, SignerName: obj.Spec.SignerName, Requester: obj.Spec.Username, Groups: obj.Spec.Groups,
		Created: obj.CreationTimestamp.Time, State: csr.StateOf(obj).String(),
		SignerServed: slices.Contains(opts.SignerNames, obj.Spec.SignerName), SignerNames: opts.SignerNames,
	}
	e.Decision = csr.Condition(obj, certificatesv1.CertificateDenied)
	if e.Decision == nil {
		e.Decision = csr.Condition(obj, certificatesv1.CertificateApproved)
	}
	e.Failure = csr.Condition(obj, certificatesv1.CertificateFailed)
	e.DecidedBy = fieldManager(obj, "approval")

	c, classifyErr := approve.Classify(obj)
	if classifyErr == nil {
		e.Kinds, e.NotRecognized = c.Kinds, c.NotRecognized
	}
	switch {
	case e.Decision != nil && e.Decision.Type == certificatesv1.CertificateDenied:
		e.add(fmt.Sprintf("denied (%s): %s", e.Decision.Reason, e.Decision.Message),
			"a denied CSR is final: remove the cause, then let the node request again (it makes a new key, so a new CSR)")
	case e.Failure != nil:
		e.add(fmt.Sprintf("the signer refused it (%s): %s", e.Failure.Reason, e.Failure.Message),
			fmt.Sprintf("the request breaks the rules of signer %s; the node must submit a new CSR that follows them", e.SignerName))
	case len(obj.Status.Certificate) > 0:
		e.explainIssued(ctx, client, obj, opts.Now())
	case e.Decision != nil:
		e.explainUnsigned(opts.Now())
	case classifyErr != nil:
		e.add(fmt.Sprintf("spec.request is not a valid certificate request: %v", classifyErr),
			"the approver ignores it; delete it and let the node submit a new one")
		e.addNoSigner()
	default:
		if err := e.explainPending(ctx, obj, c, opts); err != nil {
			return nil, err
		}
		e.addNoSigner()
	}
	return e, nil
}

func (e *Explanation) add(problem, fix string) {
	e.Findings = append(e.Findings, Finding{Problem: problem, Fix: fix})
}

// addNoSigner reports a signerName no listed signer serves: even once approved, nothing
// would issue the certificate.
func (e *Explanation) addNoSigner() {
	if e.SignerServed {
		return
	}
	e.add(fmt.Sprintf("no signer is configured for %s (signers assumed to run: %s; explain cannot see other processes)",
		e.SignerName, strings.Join(e.SignerNames, ", ")),
		fmt.Sprintf("run a signer for %s (for the built-in kubelet signers: the csrsigning controller with --cluster-signing-cert-file and --cluster-signing-key-file), or, if one runs, pass its signer name to explain", e.SignerName))
}

// explainPending reviews each recognized kind and says what blocks approval.
func (e *Explanation) explainPending(ctx context.Context, obj *certificatesv1.CertificateSigningRequest, c approve.Classification, opts Options) error {
	var allowedKind approve.Kind
	for _, kind := range c.Kinds {
		if kind == approve.KindSelfNodeServer && !opts.ServingApproval {
			e.Reviews = append(e.Reviews, KindReview{Kind: kind, Skipped: "serving approval is off"})
			continue
		}
		allowed, reason, err := opts.Authorizer.Authorize(ctx, obj, kind)
		if err != nil {
			return fmt.Errorf("explaining CSR %q: %w", obj.Name, err)
		}
		e.Reviews = append(e.Reviews, KindReview{Kind: kind, Allowed: allowed, Reason: reason})
		if allowed && allowedKind == "" {
			allowedKind = kind
		}
	}
	switch {
	case allowedKind != "":
		e.add(fmt.Sprintf("recognized as %s and the requester %q is allowed to have it auto-approved, yet it is Pending", allowedKind, e.Requester),
			"no approver is acting on it: check that an approving controller (csrapproving) runs and leads (its Lease, logs and /readyz), and that it may approve signer "+e.SignerName)
	case len(c.Kinds) == 1 && c.Kinds[0] == approve.KindSelfNodeServer && !opts.ServingApproval:
		e.add("kubelet serving CSR: Kubernetes never auto-approves these, and serving approval is assumed off",
			fmt.Sprintf("approve it by hand (tokenctl csr approve %s) or run the controller with servingapproving (--controllers=csrapproving,servingapproving,...)", e.Name))
	case len(c.Kinds) > 0:
		kind := c.Kinds[0]
		var why []string
		for _, r := range e.Reviews {
			if !r.Allowed && r.Skipped == "" {
				why = append(why, fmt.Sprintf("%s: %s", r.Kind, r.Reason))
			}
		}
		e.add(fmt.Sprintf("recognized as %s, but SubjectAccessReview did not allow the requester %q (groups %s) to have it auto-approved (%s)",
			strings.Join(kindNames(c.Kinds), ", "), e.Requester, strings.Join(e.Groups, ", "), strings.Join(why, "; ")),
			bindingFix(kind, e.Requester, e.Groups))
	case e.SignerName == certificatesv1.KubeAPIServerClientKubeletSignerName ||
		(e.SignerName == certificatesv1.KubeletServingSignerName && opts.ServingApproval):
		for _, why := range c.NotRecognized {
			if recognizerSigner(why.Kind) != e.SignerName || (why.Kind == approve.KindSelfNodeServer && !opts.ServingApproval) {
				continue
			}
			e.add(fmt.Sprintf("not auto-approvable as %s: rule %s broken: %s", why.Kind, why.Rule, why.Detail),
				fmt.Sprintf("the approver never approves it; fix the client so its CSR follows the kubelet rules and let it submit a new one, or approve this one by hand (tokenctl csr approve %s)", e.Name))
		}
	default:
		e.add(fmt.Sprintf("signer %s is not one the auto-approver handles", e.SignerName),
			fmt.Sprintf("approve it by hand (tokenctl csr approve %s) or with the approver of that signer", e.Name))
	}
	return nil
}

// bindingFix names the ClusterRole that grants auto-approval of kind and the subject to
// bind it to: the most specific bootstrap group, system:nodes for renewals.
func bindingFix(kind approve.Kind, user string, groups []string) string {
	switch kind {
	case approve.KindNodeClient:
		what, flag, who := "group", "--group", bootstrapGroup(groups)
		if who == "" {
			what, flag, who = "user", "--user", user
		}
		return fmt.Sprintf("bind ClusterRole %s to %s %s: kubectl create clusterrolebinding node-autoapprove-bootstrap --clusterrole=%s %s=%s",
			rbac.NodeClientRole, what, who, rbac.NodeClientRole, flag, who)
	case approve.KindSelfNodeClient:
		return fmt.Sprintf("bind ClusterRole %s to group %s: kubectl create clusterrolebinding node-autoapprove-certificate-rotation --clusterrole=%s --group=%s",
			rbac.SelfNodeClientRole, csr.NodesGroup, rbac.SelfNodeClientRole, csr.NodesGroup)
	default:
		return fmt.Sprintf("grant create on certificatesigningrequests/%s to group %s (e.g. ClusterRole %s of tokenctl rbac apply --preset seed)",
			kind, csr.NodesGroup, rbac.ApproveNodeServerRenewalCSRRole)
	}
}

// bootstrapGroup picks the group to bind: an extra bootstrap group (such as kubeadm's
// system:bootstrappers:kubeadm:default-node-token) over system:bootstrappers, over any
// other non-system:authenticated group.
func bootstrapGroup(groups []string) string {
	for _, g := range groups {
		if strings.HasPrefix(g, token.DefaultGroup+":") {
			return g
		}
	}
	for _, g := range groups {
		if g == token.DefaultGroup {
			return g
		}
	}
	for _, g := range groups {
		if g != "system:authenticated" {
			return g
		}
	}
	return ""
}

// explainUnsigned: approved, not failed, no certificate.
func (e *Explanation) explainUnsigned(now time.Time) {
	if !e.SignerServed {
		e.addNoSigner()
		return
	}
	age := "a moment"
	if !e.Decision.LastUpdateTime.IsZero() {
		age = now.Sub(e.Decision.LastUpdateTime.Time).Round(time.Second).String()
	}
	e.add(fmt.Sprintf("approved %s ago but no certificate was issued", age),
		fmt.Sprintf("check that a signer for %s runs (csrsigning with a CA for it) and may sign it (verb sign on signers %s); its Events (reason SigningFailed) and logs say why it does not", e.SignerName, e.SignerName))
}

// explainIssued describes the certificate and checks trust, validity and clocks.
func (e *Explanation) explainIssued(ctx context.Context, client kubernetes.Interface, obj *certificatesv1.CertificateSigningRequest, now time.Time) {
	block, _ := pem.Decode(obj.Status.Certificate)
	var cert *x509.Certificate
	if block != nil {
		cert, _ = x509.ParseCertificate(block.Bytes)
	}
	if cert == nil {
		e.add("status.certificate does not hold a PEM certificate", "the signer wrote garbage: report it, delete the CSR and let the node request again")
		return
	}
	ic := &IssuedCertificate{
		Serial: serial.Hex(cert.SerialNumber), Subject: cert.Subject.String(), Issuer: cert.Issuer.String(),
		NotBefore: cert.NotBefore, NotAfter: cert.NotAfter, IssuedAt: fieldManagerTime(obj, "status"),
	}
	e.Certificate = ic
	if isClientSigner(e.SignerName) {
		e.checkTrust(ctx, client, cert)
	}
	if !ic.IssuedAt.IsZero() {
		// A signer backdates NotBefore by 5m from its own clock: the difference to the
		// API server's time of the write is the signer's clock error.
		skew := cert.NotBefore.Add(csr.Backdate).Sub(ic.IssuedAt)
		if (skew > clockSkewTolerance && !now.Before(cert.NotBefore)) || skew < -clockSkewTolerance-csr.Backdate {
			dir := "ahead of"
			if skew < 0 {
				dir = "behind"
			}
			e.add(fmt.Sprintf("clock skew: NotBefore is %s but the API server stored the certificate at %s; the signer's clock is about %s %s the API server's (nodes with correct clocks see \"x509: certificate has expired or is not yet valid\")",
				cert.NotBefore.UTC().Format(time.RFC3339), ic.IssuedAt.UTC().Format(time.RFC3339), abs(skew).Round(time.Minute), dir),
				"synchronize the clocks (NTP/chrony) of the signer's host and the API server, then delete this CSR so the node requests a new certificate")
		}
	}
	switch {
	case now.Before(cert.NotBefore):
		ahead := cert.NotBefore.Sub(now)
		e.add(fmt.Sprintf("clock skew: the certificate is not valid yet by this machine's clock: NotBefore %s is %s ahead; signers backdate NotBefore by 5m, so the signer's clock was about %s ahead when it signed (nodes with correct clocks see \"x509: certificate has expired or is not yet valid\")",
			cert.NotBefore.UTC().Format(time.RFC3339), ahead.Round(time.Second), (ahead+csr.Backdate).Round(time.Minute)),
			"synchronize the clocks (NTP/chrony) of the signer's host, the API server and the nodes (or this machine's, if it is the one off), then delete this CSR so the node requests a new certificate")
	case now.After(cert.NotAfter):
		e.add(fmt.Sprintf("the certificate expired at %s", cert.NotAfter.UTC().Format(time.RFC3339)),
			"the node must renew (rotation) or bootstrap again with a fresh bootstrap token")
	}
}

// checkTrust verifies cert against the client CAs the API server publishes.
func (e *Explanation) checkTrust(ctx context.Context, client kubernetes.Interface, cert *x509.Certificate) {
	ic := e.Certificate
	cm, err := client.CoreV1().ConfigMaps(clientCAConfigMapNamespace).Get(ctx, clientCAConfigMap, metav1.GetOptions{})
	if err != nil {
		ic.TrustNote = fmt.Sprintf("could not read the API server's client CAs (%s/%s): %v", clientCAConfigMapNamespace, clientCAConfigMap, err)
		return
	}
	pool := x509.NewCertPool()
	if bundle := cm.Data[clientCAKey]; bundle == "" || !pool.AppendCertsFromPEM([]byte(bundle)) {
		ic.TrustNote = fmt.Sprintf("the API server publishes no client CA (%s/%s has no %s)", clientCAConfigMapNamespace, clientCAConfigMap, clientCAKey)
		return
	}
	// Trust, not time, is the question here: verify at a moment the certificate is valid.
	_, err = cert.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: cert.NotBefore.Add(time.Second), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	trusted := err == nil
	ic.TrustedByAPIServer = &trusted
	if trusted {
		return
	}
	ic.TrustNote = err.Error()
	e.add(fmt.Sprintf("the certificate's issuer %q is not a CA the API server trusts for client certificates (%s in %s/%s, from its --client-ca-file): requests with it get 401 Unauthorized",
		cert.Issuer.String(), clientCAKey, clientCAConfigMapNamespace, clientCAConfigMap),
		"give the signer the CA of the API server's --client-ca-file (--cluster-signing-cert-file/--cluster-signing-key-file; in deploy/, the Secret csr-controller-ca), or add this CA to --client-ca-file; then delete this CSR so the node bootstraps again")
}

func isClientSigner(signer string) bool {
	return signer == certificatesv1.KubeAPIServerClientKubeletSignerName || signer == certificatesv1.KubeAPIServerClientSignerName
}

func recognizerSigner(k approve.Kind) string { return k.SignerName() }

func kindNames(kinds []approve.Kind) []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = string(k)
	}
	return out
}

// fieldManager names who last wrote the subresource, from managedFields.
func fieldManager(obj *certificatesv1.CertificateSigningRequest, subresource string) string {
	if e := lastManagedFields(obj, subresource); e != nil {
		return e.Manager
	}
	return ""
}

// fieldManagerTime is the API server's time of the last write of the subresource.
func fieldManagerTime(obj *certificatesv1.CertificateSigningRequest, subresource string) time.Time {
	if e := lastManagedFields(obj, subresource); e != nil && e.Time != nil {
		return e.Time.Time
	}
	return time.Time{}
}

func lastManagedFields(obj *certificatesv1.CertificateSigningRequest, subresource string) *metav1.ManagedFieldsEntry {
	var last *metav1.ManagedFieldsEntry
	for i := range obj.ManagedFields {
		e := &obj.ManagedFields[i]
		if e.Subresource != subresource {
			continue
		}
		if last == nil || (e.Time != nil && last.Time != nil && e.Time.After(last.Time.Time)) {
			last = e
		}
	}
	return last
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
