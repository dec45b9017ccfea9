// Package token owns bootstrap tokens: generating them from crypto/rand, parsing and
// validating them, converting a token spec to and from the
// kube-system/bootstrap-token-<id> Secret exactly as the API server's authenticator reads
// it, creating, listing and deleting them in a cluster, and cleaning up expired token
// Secrets. (Static --token-auth-file tokens are tokenctl's business: internal/tokenfile.)
package token
