// Package token owns bootstrap tokens and static tokens: generating them from crypto/rand,
// parsing and validating them, converting a token spec to and from the
// kube-system/bootstrap-token-<id> Secret exactly as the API server's authenticator reads
// it, creating, listing and deleting them in a cluster, reading and writing the
// --token-auth-file CSV format, and cleaning up expired token Secrets.
package token
