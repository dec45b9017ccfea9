// Package rotate owns certificate renewal: the rotation deadline, the kubelet's cert-dir
// store with its crash-safe current symlink, and a manager that renews client and serving
// certificates before they expire.
//
// # Deadline
//
// renewalDeadline draws a certificate's renewal time uniformly in 70–90% of its lifetime
// after NotBefore, as client-go's certificate manager does. A Manager renews at once,
// whatever the deadline, when there is no certificate, it has expired, its key is weak
// (csr.ValidateKey) or it no longer matches what it was requested with (CN, O, DNS and IP SANs); see
// renewReason.
//
// # Store
//
// Store is what a Manager keeps its certificate in, shaped like client-go's
// certificate.Store (Current, Update). FileStore (NewStore) is the kubelet's cert-dir layout: <prefix>-<timestamp>.pem holds the certificate
// then the key (mode 0600), <prefix>-current.pem links to the pair in use. An update
// writes the new file atomically, then swaps the link through <prefix>-updated.pem and a
// rename, so a crash at any step leaves the old or the new pair current, never neither;
// NewStore finishes or discards an interrupted swap. Superseded files beyond
// StoreOptions.Keep are pruned.
//
// # Manager
//
// A Manager (NewManager, then Run until the context ends) renews one certificate, KindClient or KindServing:
// a new key each time, a new CSR through csr.Request (csr.NodeClientSpec or
// csr.NodeServingSpec), then Store.Update. Requests are made with the node's own, still
// valid client certificate (PathNodeCertificate: the CSR is made by system:node:<name>
// and approved as selfnodeclient); once that certificate has expired, with the bootstrap
// credentials if configured (PathBootstrap). Status says which path the last attempt took,
// the next deadline and the last error; a failed attempt keeps the old certificate in use
// and is retried after Backoff (2s doubling to 32s with 10% jitter, then every 32s; each
// wait for a CSR bounded by RequestTimeout, 15m). Current, GetClientCertificate and
// GetCertificate serve the certificate in use to tls.Config. A serving Manager makes no
// request while ManagerOptions.Addresses returns no address (errNoAddresses in Status).
//
// Any other certificate is kept the same way with ManagerOptions.Certificate (a template, a
// signer and usages; KindCertificate) and a client of its own (FixedClient). The key of an
// attempt whose CSR is still pending is kept, and the CSR's name derives from it, so a
// renewal that nothing has approved yet waits on the same CSR at every retry instead of
// filing another. RenewNow renews at once and returns the new certificate; a renewal
// already under way is joined.
//
// # Herds
//
// When N nodes get certificates at the same instant (a mass join, or a CA rollout that
// reissued everything), their lifetimes end together, but their renewals do not: each
// deadline is an independent uniform draw over 20% of the lifetime, so the renewals
// arrive at N/20 per 1% of the lifetime on average, and the busiest stretch only exceeds
// that by the draws' random fluctuation (about 3 standard deviations, √(N/20) each). The
// simulation in herd_test.go (TestHerdSpread, BenchmarkHerd; pure, no clock) measures it
// for N = 10,000: the busiest 1% of the lifetime holds 555 renewals against a mean of 500
// (peak/mean 1.11; the worst of 50 random sources was 1.19). The next generation is spread
// further, since each node's new certificate starts at its own renewal time (peak 522 in
// the simulation). Without the jitter all 10,000 would renew in the same instant (20× the
// mean in one window). Retries after failures are jittered too (Backoff.Jitter), so an API
// server outage does not line the nodes up again.
package rotate
