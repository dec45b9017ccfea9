package controllerconformance

import (
	"context"
	"errors"

	"github.com/go-logr/logr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"

	"github.com/tlsbootstrap/tlsbootstrap/approve"
	"github.com/tlsbootstrap/tlsbootstrap/conformance"
	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

// Provision returns the hook that runs the project's controller in-process for a run:
// client and serving approval, signing with ca, and the cleaner at the interval the
// suite expects. The serving policy follows the Environment: IP SANs only in its allowed
// prefixes, and its audited prefixes refused by a rule in audit mode.
func Provision(ca sign.CAProvider) conformance.ProvisionFunc {
	return func(ctx context.Context, env conformance.Environment) (func(context.Context) error, error) {
		client, err := kubernetes.NewForConfig(env.RESTConfig)
		if err != nil {
			return nil, err
		}
		opts := controller.Options{
			Controllers:      []string{controller.CSRApproving, controller.ServingApproving, controller.CSRSigning, controller.CSRCleaner},
			ClusterSigningCA: ca,
			SigningDuration:  env.SigningDuration,
			CleanerInterval:  env.CleanerInterval,
			ServingPolicy: approve.ServingPolicy{
				AllowedIPPrefixes: env.ServingAllowedIPPrefixes,
				ForbiddenCIDRs:    env.ServingAuditedIPPrefixes,
				Rules:             map[approve.ServingRule]approve.RuleMode{approve.RuleForbiddenAddress: approve.ModeAudit},
			},
		}
		// The run outlives Provision's ctx, so the controller gets a context of its own.
		runCtx, cancel := context.WithCancel(klog.NewContext(context.Background(), logr.Discard()))
		done := make(chan error, 1)
		go func() { done <- controller.Run(runCtx, client, opts) }()
		stop := func(ctx context.Context) error {
			cancel()
			select {
			case err := <-done:
				return err
			case <-ctx.Done():
				return errors.New("the controller did not stop in time")
			}
		}
		return stop, nil
	}
}
