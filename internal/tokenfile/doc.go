// Package tokenfile reads and writes the API server's static token file
// (--token-auth-file: token,user,uid,"group1,group2" lines) with the API server's own
// parsing rules (k8s.io/apiserver's tokenfile authenticator), and generates 128-bit tokens
// for it. tokenctl's static commands are built on it. Entries print redacted.
package tokenfile
