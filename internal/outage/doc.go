// Package outage holds the control-plane outage scenarios of the reliability campaign: the
// real examples/node-agent binary bootstraps, or renews its certificate, while
// kube-apiserver is stopped for 20 s or etcd is restarted (with its data) under it, with
// the project's controller running in-process. After the outage the agent must complete
// with a valid key, certificate and kubeconfig (the kubeconfig authenticates as the node),
// keep its old certificate while it cannot renew, retry with a bounded backoff, and say
// in its log what it waited for. Each scenario reports how long after the component came
// back the agent finished.
//
// `go test ./internal/outage` runs the API-server-during-bootstrap scenario; OUTAGE_ALL=1
// runs all five (API server and etcd, during bootstrap and during rotation, and the API
// server stopped as the agent starts). Each scenario reports one summary line through
// package faults (FAULTS_SUMMARY, make reliability). It has no non-test code.
package outage
