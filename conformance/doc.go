// Package conformance is a suite that verifies any implementation of the TLS bootstrap
// flow against the documented Kubernetes behaviour (as Kubernetes' own tests pin it: pkg/controller/certificates/{approver,signer,cleaner}), in
// the style of cert-manager's conformance suite and the Gateway API's reports.
//
// A caseSuite is a list of Cases; each belongs to a Profile (cluster-setup, approver, signer,
// node, cleaner), is core or extended, and declares the Features it needs. Run executes
// the chosen profiles against a cluster reached with an admin identity: cases create
// their own tokens, RBAC grants, Nodes and CSRs (impersonating requesters, since the API
// server records the caller in spec.username), wait with bounded timeouts, clean up, and
// report SUCCEEDED, FAILED (with what was expected and what was seen), SKIPPED (a
// missing prerequisite such as Options.NodeCommand) or NOT_SUPPORTED (a feature listed in
// Options.UnsupportedFeatures). The Report renders as a table, JSON, YAML and JUnit XML.
//
// Cases that check something must not happen (no approval, no certificate) first wait
// for a control object to be handled, then watch for Options.ObservationWindow.
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
