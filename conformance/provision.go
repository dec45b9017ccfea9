package conformance

import (
	"context"
	"net/netip"
	"time"

	"k8s.io/client-go/rest"
)

// ProvisionFunc starts the implementation under test for a run, configured from env, and
// returns how to stop it. The suite calls it once before the first case and stop after the
// last (also when the run is cancelled).
type ProvisionFunc func(ctx context.Context, env Environment) (stop func(context.Context) error, err error)

// Environment is what the suite gives a ProvisionFunc: where the implementation runs and
// how the cases expect it to be configured.
type Environment struct {
	// RESTConfig is an admin identity on the cluster under test, a copy the hook may keep.
	RESTConfig *rest.Config
	// SigningDuration is the longest certificate lifetime the signer must be configured
	// with (Options.SigningDuration).
	SigningDuration time.Duration
	// CleanerInterval is how often the CSR cleaner must run (Options.CleanerInterval).
	CleanerInterval time.Duration
	// ServingAllowedIPPrefixes hold every IP address the serving profile gives its Nodes
	// (IPv4 from 100.64.0.0/10, IPv6 from 2001:db8::/32, audited ones from
	// 198.51.100.0/24). An approver that bounds IP SANs (FeatureServingAllowedPrefixes)
	// must be configured to allow exactly these; serving/outside-allowed-prefixes then
	// expects an own address in 203.0.113.0/24 not to be approved.
	ServingAllowedIPPrefixes []netip.Prefix
	// ServingAuditedIPPrefixes are addresses an approver with an audit mode
	// (FeatureServingAuditMode) must be configured to refuse by a rule it only audits:
	// serving/audit-mode expects a Node's own address here to be approved, with a Warning
	// Event on the CSR.
	ServingAuditedIPPrefixes []netip.Prefix
}

// The serving profile's address plan: documentation and shared ranges no real node
// should hold, with room for every Node of a run to get addresses of its own.
var (
	servingIPv4Range    = netip.MustParsePrefix("100.64.0.0/10")
	servingIPv6Range    = netip.MustParsePrefix("2001:db8::/32")
	servingAuditedRange = netip.MustParsePrefix("198.51.100.0/24")
	servingOutsideRange = netip.MustParsePrefix("203.0.113.0/24")
)

func newEnvironment(rc *rest.Config, opts Options) Environment {
	return Environment{
		RESTConfig:               rest.CopyConfig(rc),
		SigningDuration:          opts.SigningDuration,
		CleanerInterval:          opts.CleanerInterval,
		ServingAllowedIPPrefixes: []netip.Prefix{servingIPv4Range, servingAuditedRange, servingIPv6Range},
		ServingAuditedIPPrefixes: []netip.Prefix{servingAuditedRange},
	}
}
