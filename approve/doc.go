// Package approve owns approval of CertificateSigningRequests: classifying a CSR into the
// recognized kinds (selfnodeclient, nodeclient, selfnodeserver), authorizing the requester
// by SubjectAccessReview and deciding; plus manual approve and deny. controller.Run runs
// an Approver as kube-controller-manager's csrapproving controller does.
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
//   - Serving approval (beyond Kubernetes, off unless Options.Serving is set): a kubelet
//     serving CSR is approved only when its requester is the node in its CN and in
//     system:nodes, SAR allows selfnodeserver, every DNS and IP subjectAltName is among
//     the Node's addresses as the kubelet maps them (csr.NodeAddressSANs), and no
//     ServingRule refuses it: a node writes its own addresses, so the rules refuse what is
//     provably not its own (another Node's address or name, Service and Pod ranges, the API
//     server's addresses on a worker, loopback, link-local, multicast, reserved names,
//     operator ranges). A broken rule denies, naming the rule and what holds the address;
//     a rule in ModeAudit only reports. ServingPolicy is the configuration (a Go value or
//     LoadServingPolicy's YAML); ServingFacts say who holds each address: ClusterFacts
//     from watches and an index, StaticFacts from fixed values.
//   - Approve and Deny are `kubectl certificate approve|deny` as functions.
//
// Why a CSR is Pending, with the fix, is tokenctl csr explain's business (internal/diagnose),
// built on Classify and the Authorizer.
package approve
