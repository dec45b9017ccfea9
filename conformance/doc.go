// Package conformance is a suite that verifies any implementation of the TLS bootstrap
// flow (cluster set-up, approver, signer, node, cleaner) against the documented Kubernetes
// behaviour, with profiles, feature-gated cases and table, JSON and JUnit reports.
package conformance
