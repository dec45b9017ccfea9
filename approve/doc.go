// Package approve owns approval of CertificateSigningRequests: classifying a CSR into the
// recognized kinds (selfnodeclient, nodeclient, selfnodeserver), authorizing the requester
// by SubjectAccessReview, deciding, and the approval controller; plus manual approve and
// deny.
package approve
