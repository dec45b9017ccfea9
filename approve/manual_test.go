package approve_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"

	certificatesv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
)

func TestManualApproveDeny(t *testing.T) {
	testenv.Need(t)
	ctx := context.Background()
	admin := cp.Client()
	user, groups := bootstrapUser(t)
	as := clientAs(t, user, groups...)
	type step struct {
		op      func(ctx context.Context, name string) error
		wantErr error // nil, ErrAlreadyDecided
	}
	approveWith := func(reason, message string) func(context.Context, string) error {
		return func(ctx context.Context, name string) error {
			return approve.Approve(ctx, admin, name, reason, message)
		}
	}
	denyWith := func(reason, message string) func(context.Context, string) error {
		return func(ctx context.Context, name string) error { return approve.Deny(ctx, admin, name, reason, message) }
	}
	for _, tc := range []struct {
		name        string
		steps       []step
		wantType    certificatesv1.RequestConditionType
		wantReason  string
		wantMessage string
	}{
		{"approve with defaults", []step{{op: approveWith("", "")}},
			certificatesv1.CertificateApproved, approve.DefaultManualApproveReason, approve.DefaultManualApproveMessage},
		{"approve twice is a no-op", []step{{op: approveWith("OpsApproved", "ticket 42")}, {op: approveWith("Again", "again")}},
			certificatesv1.CertificateApproved, "OpsApproved", "ticket 42"},
		{"deny then approve fails", []step{{op: denyWith("", "")}, {op: approveWith("", ""), wantErr: approve.ErrAlreadyDecided}},
			certificatesv1.CertificateDenied, approve.DefaultManualDenyReason, approve.DefaultManualDenyMessage},
		{"approve then deny fails", []step{{op: approveWith("", "")}, {op: denyWith("Nope", "no"), wantErr: approve.ErrAlreadyDecided}},
			certificatesv1.CertificateApproved, approve.DefaultManualApproveReason, approve.DefaultManualApproveMessage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			created := createCSR(t, as, kubeletClientSigner, clientUsages, kubeletRequest("manual"))
			for i, s := range tc.steps {
				err := s.op(ctx, created.Name)
				if !errors.Is(err, s.wantErr) || (s.wantErr == nil && err != nil) {
					t.Fatalf("step %d: error %v, want %v", i, err, s.wantErr)
				}
			}
			got := getCSR(t, created.Name)
			if len(got.Status.Conditions) != 1 {
				t.Fatalf("conditions %+v, want exactly one", got.Status.Conditions)
			}
			c := got.Status.Conditions[0]
			if c.Type != tc.wantType || c.Status != "True" || c.Reason != tc.wantReason || c.Message != tc.wantMessage {
				t.Errorf("condition %+v, want %s/True %q %q", c, tc.wantType, tc.wantReason, tc.wantMessage)
			}
		})
	}
	t.Run("missing CSR", func(t *testing.T) {
		err := approve.Approve(ctx, admin, "no-such-csr", "", "")
		if !apierrors.IsNotFound(err) {
			t.Errorf("error %v, want NotFound", err)
		}
	})
	t.Run("empty name", func(t *testing.T) {
		if err := approve.Deny(ctx, admin, "", "", ""); err == nil {
			t.Error("Deny accepted an empty name")
		}
	})
}
