package diagnose_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tlsbootstrap/tlsbootstrap/internal/diagnose"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"

	certificatesv1 "k8s.io/api/certificates/v1"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
	"github.com/tlsbootstrap/tlsbootstrap/csr"
)

// TestExplainPending creates CSRs as real identities and checks what Explain finds: the
// kinds, the SubjectAccessReview answers, whether a signer serves them and the fix.
func TestExplainPending(t *testing.T) {
	testenv.Need(t)
	ctx := context.Background()
	client := []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}
	serving := []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth}
	bootUser, bootGroups := bootstrapUser(t)
	grantedUser, grantedGroups := bootstrapUser(t)
	grant(t, grantedUser, grantedGroups, approve.KindNodeClient)

	for _, tc := range []struct {
		name     string
		user     string
		groups   []string
		signer   string
		usages   []certificatesv1.KeyUsage
		req      csr.RequestOptions
		opts     diagnose.Options
		kinds    []approve.Kind
		reviews  map[approve.Kind]bool
		served   bool
		rule     csr.Rule // a NotRecognized rule that must be reported
		findings []string // substrings of the findings' problems, in order
		fix      string   // substring of the first finding's fix
	}{
		{name: "no binding", user: bootUser, groups: bootGroups, signer: certificatesv1.KubeAPIServerClientKubeletSignerName,
			usages: client, req: kubeletRequest("ex1"), kinds: []approve.Kind{approve.KindNodeClient},
			reviews: map[approve.Kind]bool{approve.KindNodeClient: false}, served: true, rule: "RequesterIsSubject",
			findings: []string{"SubjectAccessReview did not allow"},
			fix:      "bind ClusterRole system:certificates.k8s.io:certificatesigningrequests:nodeclient to group system:bootstrappers: kubectl create clusterrolebinding"},
		{name: "allowed but pending", user: grantedUser, groups: grantedGroups, signer: certificatesv1.KubeAPIServerClientKubeletSignerName,
			usages: client, req: kubeletRequest("ex2"), kinds: []approve.Kind{approve.KindNodeClient},
			reviews: map[approve.Kind]bool{approve.KindNodeClient: true}, served: true,
			findings: []string{"is allowed to have it auto-approved, yet it is Pending"}, fix: "csrapproving"},
		{name: "renewal without binding", user: "system:node:ex3", groups: []string{"system:nodes"}, signer: certificatesv1.KubeAPIServerClientKubeletSignerName,
			usages: client, req: kubeletRequest("ex3"), kinds: []approve.Kind{approve.KindSelfNodeClient, approve.KindNodeClient},
			reviews: map[approve.Kind]bool{approve.KindSelfNodeClient: false, approve.KindNodeClient: false}, served: true,
			findings: []string{"recognized as selfnodeclient, nodeclient"},
			fix:      "bind ClusterRole system:certificates.k8s.io:certificatesigningrequests:selfnodeclient to group system:nodes"},
		{name: "broken rule", user: grantedUser, groups: grantedGroups, signer: certificatesv1.KubeAPIServerClientKubeletSignerName,
			usages: client, req: withOrgs(kubeletRequest("ex4"), "system:masters"), served: true, rule: csr.RuleOrganization,
			findings: []string{"not auto-approvable as selfnodeclient", "not auto-approvable as nodeclient"}, fix: "fix the client"},
		{name: "serving, approval off", user: "system:node:ex5", groups: []string{"system:nodes"}, signer: certificatesv1.KubeletServingSignerName,
			usages: serving, req: withDNS(kubeletRequest("ex5"), "ex5"), kinds: []approve.Kind{approve.KindSelfNodeServer}, served: true,
			findings: []string{"Kubernetes never auto-approves these"}, fix: "servingapproving"},
		{name: "signer nobody serves", user: grantedUser, groups: grantedGroups, signer: "example.com/custom",
			usages: client, req: kubeletRequest("ex6"), served: false,
			findings: []string{"signer example.com/custom is not one the auto-approver handles", "no signer is configured for example.com/custom"},
			fix:      "approve it by hand"},
		{name: "signer named as served", user: grantedUser, groups: grantedGroups, signer: "example.com/custom",
			usages: client, req: kubeletRequest("ex7"), served: true, opts: diagnose.Options{SignerNames: []string{"example.com/custom"}},
			findings: []string{"signer example.com/custom is not one the auto-approver handles"}, fix: "approve it by hand"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := createCSR(t, clientAs(t, tc.user, tc.groups...), tc.signer, tc.usages, tc.req)
			e, err := diagnose.Explain(ctx, cp.Client(), obj.Name, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if e.State != "Pending" || e.Requester != tc.user {
				t.Errorf("state %q requester %q", e.State, e.Requester)
			}
			if !slices.Equal(e.Kinds, tc.kinds) {
				t.Errorf("kinds %v, want %v", e.Kinds, tc.kinds)
			}
			got := map[approve.Kind]bool{}
			for _, r := range e.Reviews {
				if r.Skipped == "" {
					got[r.Kind] = r.Allowed
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(orEmpty(tc.reviews)) {
				t.Errorf("reviews %v, want %v", got, tc.reviews)
			}
			if e.SignerServed != tc.served {
				t.Errorf("SignerServed %v, want %v", e.SignerServed, tc.served)
			}
			if tc.rule != "" && !slices.ContainsFunc(e.NotRecognized, func(n *approve.NotRecognizedError) bool { return n.Rule == tc.rule }) {
				t.Errorf("rule %s not among %v", tc.rule, e.NotRecognized)
			}
			if len(e.Findings) != len(tc.findings) {
				t.Fatalf("findings %+v, want %d", e.Findings, len(tc.findings))
			}
			for i, want := range tc.findings {
				if !strings.Contains(e.Findings[i].Problem, want) {
					t.Errorf("finding %d %q lacks %q", i, e.Findings[i].Problem, want)
				}
			}
			if !strings.Contains(e.Findings[0].Fix, tc.fix) {
				t.Errorf("fix %q lacks %q", e.Findings[0].Fix, tc.fix)
			}
		})
	}
}

func orEmpty(m map[approve.Kind]bool) map[approve.Kind]bool {
	if m == nil {
		return map[approve.Kind]bool{}
	}
	return m
}

func TestExplainErrors(t *testing.T) {
	testenv.Need(t)
	if _, err := diagnose.Explain(context.Background(), nil, "x", diagnose.Options{}); err == nil {
		t.Error("nil client accepted")
	}
	_, err := diagnose.Explain(context.Background(), cp.Client(), "no-such-csr", diagnose.Options{})
	if err == nil || !strings.Contains(err.Error(), `explaining CSR "no-such-csr"`) || !strings.Contains(err.Error(), "not found") {
		t.Errorf("error %v", err)
	}
}
