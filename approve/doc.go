// Package approve owns approval of CertificateSigningRequests: classifying a CSR into the
// recognized kinds (selfnodeclient, nodeclient, selfnodeserver), authorizing the requester
// by SubjectAccessReview, deciding, and the approval controller; plus manual approve and
// deny.
//
// The pieces, each usable alone:
//   - Classify applies Kubernetes' kubelet client rules (and the kubelet serving rules for
//     selfnodeserver) through a table of recognizers tried in upstream order; every kind
//     a CSR is not of comes with a *NotRecognizedError naming the broken rule.
//   - Authorizer decides whether a requester may have a kind auto-approved;
//     NewSARAuthorizer asks the API server by SubjectAccessReview (create on
//     certificatesigningrequests/<kind>), shares identical concurrent reviews and reuses
//     allowed answers for at most SAROptions.CacheTTL (default 5s): the bound on how long
//     a revoked binding can still approve.
//   - Approver.Decide turns a CSR into a Decision (Approve, Ignore or Deny) and
//     Approver.Apply writes it through /approval with Kubernetes' reason AutoApproved and
//     its exact messages. Lack of authorization never denies; it ignores and asks for a
//     retry. CSRs already approved, denied or issued are left alone.
//   - Serving approval (beyond Kubernetes, off unless Options.EnableServing): a kubelet
//     serving CSR is approved only when its requester is the node in its CN, SAR allows
//     selfnodeserver and every DNS and IP subjectAltName is among the Node's
//     status.addresses; a subjectAltName the Node lacks is denied with a message naming it.
//   - Controller runs an Approver over an informer and a rate-limited workqueue (the
//     kube-controller-manager pacing), with optional Events, Prometheus metrics and an
//     Handoff to a signer in the same process.
//   - Approve and Deny are `kubectl certificate approve|deny` as functions.
//   - Explain says why a CSR is Pending (kinds or broken rules, SubjectAccessReview per
//     kind, whether a signer serves it) or what it was issued (serial, validity, approver,
//     trust by the API server's client CAs, clock skew), each problem with its fix.
package approve
