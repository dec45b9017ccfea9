// Package controller composes the controller side of TLS bootstrapping into one process,
// what kube-controller-manager's csrapproving, csrsigning, csrcleaner and tokencleaner
// controllers do, plus what it does not: approval of kubelet serving certificates
// (servingapproving), signing in the same process right after approval, Events, Prometheus
// metrics, health endpoints and leader election on a Lease for HA.
//
// The controllers share one informer factory and one client; when leader election is on,
// they run only while this replica holds the Lease.
package controller
