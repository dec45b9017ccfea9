// Package trust owns distributing a signer's CA so that workloads can trust the
// certificates it issues.
//
// Publish writes the CA bundle, idempotently:
//   - as a ConfigMap (key "ca.crt", like kube-root-ca.crt) in each chosen namespace;
//   - as a certificates.k8s.io/v1 ClusterTrustBundle linked to the signer name (its name is
//     the signer name with "/" as ":", then ":" and a suffix). The API server
//     lets only those with the verb "attest" on the signer write a linked bundle.
//
// When the CA rotates, MergeBundles keeps the previously published CAs next to the new
// one until each expires, so certificates issued by the old CA stay verifiable for as long
// as they can be valid. The csr-controller's trustpublisher controller (package controller)
// runs Publish for every signer it signs for, and again whenever a CA or a published
// object changes.
package trust
