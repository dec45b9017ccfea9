// Package layers holds the table of which of the module's packages may import which: the
// layering a newcomer can rely on. TestImports checks every package's imports against it
// with go list.
//
//	examples/, cmd/            the programs: over everything
//	conformance, clustertest   the conformance runner and the test control plane
//	node, controller           the compositions importers call first
//	approve, sign, csrcleaner, rotate, kubeconfig, discovery, trust
//	token, rbac, csr           the bottom: one object kind each
//	internal leaves            atomicfile, deadline, metrics, queue, redact, serial
package layers

// Module is the module path.
const Module = "github.com/tlsbootstrap/tlsbootstrap"

var (
	leaves = []string{"internal/atomicfile", "internal/deadline", "internal/metrics", "internal/queue", "internal/redact", "internal/serial"}
	bottom = []string{"token", "csr", "rbac"}
	middle = []string{"approve", "sign", "csrcleaner", "rotate", "kubeconfig", "discovery", "trust"}
	top    = []string{"node", "controller"}
)

func join(groups ...[]string) []string {
	var out []string
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// Allowed maps each library package (path relative to the module) to the module packages
// it may import. Programs (examples/..., cmd/...) and test files may import anything.
func Allowed() map[string][]string {
	return map[string][]string{
		// The leaves import nothing of the module.
		"internal/atomicfile": nil, "internal/deadline": nil, "internal/metrics": nil,
		"internal/queue": nil, "internal/redact": nil, "internal/serial": nil,
		"internal/clientmetrics": []string{"internal/metrics"},

		// The bottom: token and csr stand alone; rbac names their groups and users.
		"token": leaves,
		"csr":   leaves,
		"rbac":  join(leaves, []string{"token", "csr"}),

		// Above: each may use the bottom; kubeconfig verifies discovery's cluster-info and
		// trust publishes sign's CAs.
		"approve":    join(leaves, bottom),
		"sign":       join(leaves, bottom),
		"csrcleaner": join(leaves, bottom),
		"rotate":     join(leaves, bottom),
		"discovery":  join(leaves, bottom),
		"kubeconfig": join(leaves, bottom, []string{"discovery"}),
		"trust":      join(leaves, bottom, []string{"sign"}),

		// The top composes the middle; node and controller do not import each other.
		"node":       join(leaves, bottom, middle),
		"controller": join(leaves, bottom, middle, []string{"internal/approving", "internal/signing", "internal/backlog", "internal/certrecord"}),

		// The conformance runner and the exported test control plane.
		"conformance": join(leaves, bottom, middle),
		"clustertest": join(leaves, bottom, middle, []string{"internal/controlplane"}),
		"deploy":      nil,

		// Internal helpers of the programs and tests.
		"internal":                 nil,
		"internal/approving":       join(leaves, bottom, middle),
		"internal/backlog":         join(leaves, bottom),
		"internal/certrecord":      join(leaves, bottom),
		"internal/signing":         join(leaves, bottom, middle),
		"internal/controlplane":    join(leaves, bottom, middle),
		"internal/controllerflags": nil,
		"internal/csrtest":         join(leaves, bottom, middle, []string{"internal/controlplane"}),
		"internal/diagnose":        join(leaves, bottom, middle),
		"internal/nodereg":         nil,
		"internal/tokenfile":       leaves,
		"internal/testenv":         join(leaves, bottom, middle, []string{"internal/controlplane"}),
		"internal/tokenctl":        join(leaves, bottom, middle, []string{"internal/diagnose", "internal/tokenfile", "internal/certrecord"}),
		"internal/layers":          nil,
		// Test-only harnesses: their packages hold tests; any library code they have is
		// for those tests.
		"internal/ctrlkill":   join(leaves, bottom, middle, top),
		"internal/faults":     join(leaves, bottom, middle, top),
		"internal/killloop":   join(leaves, bottom, middle, top),
		"internal/malicious":  join(leaves, bottom, middle, top),
		"internal/outage":     join(leaves, bottom, middle, top),
		"internal/secretscan": join(leaves, bottom, middle, top),
	}
}
