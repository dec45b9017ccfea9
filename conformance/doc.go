// Package conformance is a suite that verifies any implementation of the TLS bootstrap
// flow against the documented Kubernetes behaviour (as Kubernetes' own tests pin it:
// pkg/controller/certificates/{approver,signer,cleaner}), in the style of cert-manager's
// conformance suite and the Gateway API's reports.
//
// Two entry points run the same cases. RunTests runs them under go test, one subtest per
// case, so another project rates its approver or signer from its own tests; Run runs them
// from a program (examples/conformance) and returns the Report. Either way,
// Options.Provision starts the implementation under test, configured from the
// Environment the suite gives it, and stops it after the last case.
//
// Each case belongs to a Profile (cluster-setup, approver, serving, signer, node,
// cleaner), is core or extended, and declares the Features it needs; a profile may need a
// feature too (serving: ServingApproval). A feature listed in Options.UnsupportedFeatures,
// or known to be lacking from the implementation's name (kube-controller-manager approves
// no serving CSR), makes its cases NOT_SUPPORTED, never FAILED. Cases run against a
// cluster reached with an admin identity: they create their own tokens, RBAC grants,
// Nodes and CSRs (impersonating requesters, since the API server records the caller in
// spec.username), wait with bounded timeouts, clean up, and report SUCCEEDED, FAILED
// (with what was expected and what was seen), SKIPPED (a missing prerequisite such as
// Options.NodeCommand) or NOT_SUPPORTED. The Report renders as a table, JSON, YAML and
// JUnit XML.
//
// Cases that check something must not happen (no approval, no certificate) first wait
// for a control object to be handled, then watch for Options.ObservationWindow. In the
// serving profile, "not approved" accepts a Denied condition, a CSR still Pending at
// the end of the window, or a create the API server refused (third-party approvers
// differ there); CaseResult.Observed says which.
//
// Node cases run the implementation's own programs: Options.NodeCommand bootstraps a node
// and exits; Options.NodeRotateCommand keeps one running, renewing early, for as long as
// node/rotates-before-expiry watches it.
//
// The cleaner profile back-dates the conditions of CSRs for a signer nobody handles (a
// client may write lastUpdateTime on /approval and /status) and waits one pass of the
// cleaner, Options.CleanerInterval: kube-controller-manager's hour is longer than a case
// may wait, so the case is SKIPPED unless the cleaner under test runs every few seconds.
// Pending for over 24h is the one retention rule not covered: creationTimestamp is set
// by the API server.
package conformance
