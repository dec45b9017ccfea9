// Package controllerconformance runs the conformance suite against the project's own
// controller from go test, the way another project runs it against its approver or
// signer: Provision is the hook that starts the implementation under test, configured
// from the suite's conformance.Environment, and conformance_test.go is the test to copy.
package controllerconformance
