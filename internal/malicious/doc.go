// Package malicious is a corpus of hostile and malformed CertificateSigningRequests, each
// with the decisions it may end in, and a runner that submits them to a real API server
// (as the identity each case names, by impersonation) while the project's controller runs,
// then counts wrong approvals and wrong signatures and checks every issued certificate
// (CA:false, only the requested usages, the request's key, chained to the CA).
//
// Serving cases bring their Nodes (NodeSpec), which Run creates before any CSR and deletes
// after: each with addresses of its own from the documentation ranges, spoofing nodes
// listing a victim's address (created first) or one no node may hold, which must end Denied
// by the rule that names it; kubelet-shaped requests for a node's own addresses, in every
// spelling a kubelet reports, must be signed.
//
// It backs the "malicious CSR corpus" of `make reliability` and runs in `make test`
// (TestCorpus).
package malicious
