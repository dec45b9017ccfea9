package kubeconfig

// SetDiscoverHook runs hook in Discover after the signature and pins are verified and
// before the verified fetch, until the returned function restores the previous hook.
func SetDiscoverHook(hook func()) (restore func()) {
	prev := discoverHook
	discoverHook = hook
	return func() { discoverHook = prev }
}

const CurrentClientFile = currentClientFile
const NodeCluster = nodeCluster
const NodeUser = nodeUser

var Parse = parse
var NodeConfig = nodeConfig

type NodeOptions = nodeOptions

const DefaultBootstrapUser = defaultBootstrapUser
