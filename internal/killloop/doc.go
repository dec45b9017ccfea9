// Package killloop holds the node-agent kill test of the reliability campaign: the real
// examples/node-agent binary is killed with SIGKILL at random moments during bootstrap and
// during rotation, then restarted, and after each kill the cert-dir must hold no partial
// or dangling file and the restarted agent must end with a valid key, certificate and
// kubeconfig. KILLS sets the number of kills (default 10; `make reliability` uses 200).
// It has no non-test code.
package killloop
