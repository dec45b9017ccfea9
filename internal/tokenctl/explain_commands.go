package tokenctl

import (
	"context"
	"errors"

	"github.com/spf13/pflag"

	"github.com/tlsbootstrap/tlsbootstrap/internal/diagnose"
)

func bindCSRExplain(fs *pflag.FlagSet) action {
	var opts ExplainOptions
	fs.StringSliceVar(&opts.Signers, "signer", diagnose.DefaultServedSigners, "signer names a controller in the cluster signs for (tokenctl cannot see them; repeatable)")
	fs.BoolVar(&opts.ServingApproval, "serving-approval", false, "the cluster's approver approves kubelet serving CSRs (servingapproving)")
	return func(ctx context.Context, inv *invocation) error {
		return ExplainCSR(ctx, inv.client, inv.out, inv.args[0], opts)
	}
}

func bindStatus(fs *pflag.FlagSet) action {
	var opts StatusOptions
	fs.DurationVar(&opts.ExpiringWithin, "expiring-within", DefaultExpiringWithin, "flag certificates that expire sooner than this")
	fs.StringVar(&opts.RecordNamespace, "record-namespace", "", "namespace of the csr-controller's node certificate record (nodecertificates); empty: every namespace")
	return func(ctx context.Context, inv *invocation) error {
		if opts.ExpiringWithin <= 0 {
			return errors.New("status: --expiring-within must be positive")
		}
		return Status(ctx, inv.client, inv.out, opts)
	}
}
