package conformance

// Names the external tests use; unexported for importers.
const PlaceholderBootstrapKubeconfig = placeholderBootstrapKubeconfig
const PlaceholderKubeconfig = placeholderKubeconfig
const PlaceholderCertDir = placeholderCertDir
const PlaceholderNodeName = placeholderNodeName
