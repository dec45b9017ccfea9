// Package faults collects the one-line results of the fault scenarios of the reliability
// campaign (control-plane outages, controller kills, clock skew, CA files replaced under a
// running controller, a read-only or full cert-dir, bad bootstrap tokens). The scenarios
// are tests in the packages they exercise; each calls Record or Report once, and when the
// environment variable named by SummaryEnv is set, the line is appended to that file,
// which hack/reliability.sh prints in its summary.
package faults
