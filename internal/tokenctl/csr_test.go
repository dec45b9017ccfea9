package tokenctl_test

import (
	"context"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"

	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/rbac"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// submitCSRs creates one kubelet client CSR per node as a bootstrap token identity allowed
// to create CSRs, and returns their names (in the order of nodes) and the requester.
func submitCSRs(t *testing.T, nodes []string, durations []*int32) ([]string, string) {
	t.Helper()
	ctx := context.Background()
	tok := newToken(t)
	requester := token.UserPrefix + tok.ID
	preset := rbac.NodeBootstrapperPreset(rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: requester})
	if err := rbac.Apply(ctx, cp.Client(), preset); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rbac.Revoke(ctx, cp.Client(), preset) })
	client := kubernetes.NewForConfigOrDie(cp.TokenConfig(tok.Reveal()))
	names := make([]string, len(nodes))
	for i, node := range nodes {
		key, err := csr.GenerateKey(csr.ECDSAP256)
		if err != nil {
			t.Fatal(err)
		}
		spec, err := csr.NodeClientSpec(node, key, durations[i])
		if err != nil {
			t.Fatal(err)
		}
		var created *certificatesv1.CertificateSigningRequest
		// The binding reaches the authorizer a moment after it is written.
		err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
			created, err = client.CertificatesV1().CertificateSigningRequests().Create(ctx, csr.New(spec), metav1.CreateOptions{})
			return err == nil, nil
		})
		if err != nil {
			t.Fatalf("creating the CSR of %s: %v", node, err)
		}
		names[i] = created.Name
		t.Cleanup(func() {
			_ = cp.Client().CertificatesV1().CertificateSigningRequests().Delete(ctx, created.Name, metav1.DeleteOptions{})
		})
	}
	return names, requester
}

// csrRow returns the fields of name's row in `csr list` output.
func csrRow(out, name string) []string {
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == name {
			return f
		}
	}
	return nil
}

func TestCSRListApproveDeny(t *testing.T) {
	ctx := context.Background()
	names, requester := submitCSRs(t, []string{"csr-a", "csr-b", "csr-c"}, []*int32{csr.DurationSeconds(time.Hour), nil, nil})
	a, b, c := names[0], names[1], names[2]

	// requested: REQUESTEDDURATION and CONDITION of each CSR, by name.
	expectList := func(stage string, want map[string][2]string) {
		t.Helper()
		out := mustRun(t, "csr", "list", admin())
		if header := strings.Fields(strings.SplitN(out, "\n", 2)[0]); strings.Join(header, " ") != "NAME AGE SIGNERNAME REQUESTOR REQUESTEDDURATION CONDITION" {
			t.Errorf("%s: header %q", stage, header)
		}
		for name, w := range want {
			row := csrRow(out, name)
			if len(row) != 6 {
				t.Errorf("%s: row of %s is %q, want 6 columns", stage, name, row)
				continue
			}
			got := []string{row[2], row[3], row[4], row[5]}
			wantRow := []string{certificatesv1.KubeAPIServerClientKubeletSignerName, requester, w[0], w[1]}
			if strings.Join(got, " ") != strings.Join(wantRow, " ") {
				t.Errorf("%s: row of %s ends with %q, want %q", stage, name, got, wantRow)
			}
		}
	}
	expectList("created", map[string][2]string{a: {"60m", "Pending"}, b: {"<none>", "Pending"}, c: {"<none>", "Pending"}})

	if got, want := mustRun(t, "csr", "approve", admin(), a, "--reason=Checked", "--message=checked by hand"), "certificatesigningrequest.certificates.k8s.io/"+a+" approved\n"; got != want {
		t.Errorf("approve printed %q, want %q", got, want)
	}
	mustRun(t, "csr", "deny", admin(), b)
	expectList("decided", map[string][2]string{a: {"60m", "Approved"}, b: {"<none>", "Denied"}, c: {"<none>", "Pending"}})

	for _, tc := range []struct {
		name, reason, message string
		condition             certificatesv1.RequestConditionType
	}{
		{a, "Checked", "checked by hand", certificatesv1.CertificateApproved},
		{b, "ManuallyDenied", "This CSR was denied manually.", certificatesv1.CertificateDenied},
	} {
		obj, err := cp.Client().CertificatesV1().CertificateSigningRequests().Get(ctx, tc.name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(obj.Status.Conditions); n != 1 {
			t.Fatalf("%s has %d conditions, want 1", tc.name, n)
		}
		if got := obj.Status.Conditions[0]; got.Type != tc.condition || got.Reason != tc.reason || got.Message != tc.message {
			t.Errorf("%s condition %s %q %q, want %s %q %q", tc.name, got.Type, got.Reason, got.Message, tc.condition, tc.reason, tc.message)
		}
	}

	for _, tc := range []struct {
		name string
		args []string
		want string // error; empty for success
	}{
		{"approve again is fine", []string{"approve", a}, ""},
		{"approve a denied CSR", []string{"approve", b}, "already decided"},
		{"deny an approved CSR", []string{"deny", a}, "already decided"},
		{"unknown CSR", []string{"approve", "no-such-csr"}, `"no-such-csr" not found`},
		{"no name", []string{"deny"}, "wrong arguments"},
		{"unknown subcommand", []string{"sign", c}, `unknown command "csr sign"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := run(t, append(append([]string{"csr"}, tc.args...), admin())...)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	expectList("after the errors", map[string][2]string{a: {"60m", "Approved"}, b: {"<none>", "Denied"}, c: {"<none>", "Pending"}})
}
