// Package ctrlkill holds the controller fault tests of the reliability campaign: the real
// examples/csr-controller binary is SIGKILLed in the middle of a storm of kubelet client
// CSRs and restarted (TestControllerKilledMidStorm), and, separately, two replicas run with
// leader election and the leader is SIGKILLed mid-storm (TestLeaderKilledMidStorm).
//
// Each storm mixes legitimate bootstrap requests with requests that must never be approved
// (an extra organization, an extra usage, a common name that is no node, a DNS name, an
// identity allowed to create CSRs but not to have them approved). The tests require
// every legitimate CSR to end issued with a certificate that chains to the cluster CA and
// certifies the request's key, no bad CSR approved or signed, and none signed twice: a watch started before the
// storm counts status.certificate writes per CSR (exactly one for each legitimate CSR),
// and the Signed Events and "Signed CSR" log lines per CSR are counted (at most one each;
// a killed process may lose its last ones).
//
// CTRLKILL_CSRS sets the number of legitimate CSRs per storm (default 200; `make
// reliability` uses 1000). Each test reports one summary line through package faults
// (FAULTS_SUMMARY). It has no non-test code.
package ctrlkill
