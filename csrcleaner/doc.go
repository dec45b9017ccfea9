// Package csrcleaner deletes old CertificateSigningRequests, as kube-controller-manager's
// csrcleaner controller does (pkg/controller/certificates/cleaner): issued CSRs an hour
// after approval, denied and failed ones after an hour, pending ones after a day, approved
// but unissued ones after an hour, and any whose certificate has expired. Retention holds
// the rules; Cleaner runs them periodically.
package csrcleaner
