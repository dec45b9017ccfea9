// Package internal holds helpers shared by tests and example programs; see its
// subpackages: controlplane (a real kube-apiserver + etcd) and testenv (TestMain glue).
package internal
