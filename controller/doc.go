// Package controller composes the controller side of TLS bootstrapping into one process,
// what kube-controller-manager's csrapproving, csrsigning, csrcleaner and tokencleaner
// controllers do, plus what it does not: approval of kubelet serving certificates
// (servingapproving), signing in the same process right after approval, Events, Prometheus
// metrics, health endpoints and leader election on a Lease for HA.
//
// The trustpublisher controller distributes the CAs so that clients can verify what the
// signers issue: for every signer with a CA (the built-in signers of ClusterSigningCA and
// SignerCAs, and each custom signer), it keeps the signer's CA bundle in the
// certificates.k8s.io/v1 ClusterTrustBundle linked to the signer and in a ConfigMap (key
// "ca.crt") in each namespace of Options.TrustBundleNamespaces (csr-controller's
// --trust-bundle-namespaces), or in every namespace, new ones included (see package trust
// for the names). When a CA rotates (a sign.FileCA reloads its files), the old CA stays in
// the bundle next to the new one until it expires, also across restarts: the
// ClusterTrustBundle holds it. A deleted object, or one edited to lose a certificate of
// the bundle or to hold something else than certificates, is written again at once
// (watches); unexpired certificates an edit added stay, as trust.Publish keeps what it
// finds. CA changes and expiries are picked up within seconds (a resync). Its rights: the
// verb attest on its signers, create/update/get/list/watch on clustertrustbundles,
// create/update/get/list/watch on configmaps (it lists and watches them in all namespaces
// with a field selector on the name, so a ClusterRole may limit all but create to those
// names), and list/watch on namespaces when it publishes to all of them;
// deploy/components/trustpublisher grants exactly that.
//
// The controllers share one informer factory and one client; when leader election is on,
// they run only while this replica holds the Lease.
package controller
