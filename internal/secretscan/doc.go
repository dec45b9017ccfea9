// Package secretscan holds the secret-leak test of the reliability campaign: the whole
// bootstrap flow (token, controller, node.Bootstrap, one rotation) runs with klog at the
// highest verbosity, and every log line, returned error and Event message is scanned for
// the bootstrap token secret and the private keys' bytes. It has no non-test code.
package secretscan
