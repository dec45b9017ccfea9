package tokenctl

import (
	"fmt"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// DefaultRequestTimeout bounds each request, so that an unreachable server fails the
// command instead of hanging it.
const DefaultRequestTimeout = 15 * time.Second

// LoadRESTConfig loads the client configuration the way kubectl does: the file at path
// when set, otherwise the files in $KUBECONFIG, otherwise ~/.kube/config, using the
// current context. timeout, when positive, bounds each request.
func LoadRESTConfig(path string, timeout time.Duration) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) && path != "" {
			return nil, fmt.Errorf("kubeconfig %s is empty or has no current context", path)
		}
		if clientcmd.IsEmptyConfig(err) {
			return nil, explain(err, "")
		}
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	if timeout > 0 {
		cfg.Timeout = timeout
	}
	cfg.UserAgent = "tokenctl"
	return cfg, nil
}

// connect loads the kubeconfig and returns a clientset and the configuration it was made
// from (cfg.Host is the server it talks to).
func connect(path string, timeout time.Duration) (kubernetes.Interface, *rest.Config, error) {
	cfg, err := LoadRESTConfig(path, timeout)
	if err != nil {
		return nil, nil, err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("client for %s: %w", cfg.Host, err)
	}
	return client, cfg, nil
}
