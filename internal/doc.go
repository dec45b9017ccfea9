// Package internal holds what the project's tests and example programs share but users do
// not import: controlplane (a real kube-apiserver + etcd, and kube-controller-manager
// runs), testenv (one control plane per test package, from TestMain) and tokenctl (the
// commands of examples/tokenctl, testable as functions).
package internal
