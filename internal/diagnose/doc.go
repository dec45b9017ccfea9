// Package diagnose answers "why is my CSR pending, denied or not working": it reads a CSR,
// classifies it as the approver would, asks the SubjectAccessReviews the approver would
// ask, looks at the issued certificate and the API server's client CAs, and says what
// blocks it and how to fix it (naming the RBAC binding to create). tokenctl csr explain
// prints its findings.
package diagnose
