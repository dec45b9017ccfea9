package kubeconfig

import (
	"fmt"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/tlsbootstrap/tlsbootstrap/internal/atomicfile"
)

// Write serializes cfg with clientcmd and writes it to path atomically (a temporary file renamed over path), mode 0600.
func Write(path string, cfg *clientcmdapi.Config) error {
	if cfg == nil {
		return fmt.Errorf("writing kubeconfig %s: no config", path)
	}
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return fmt.Errorf("writing kubeconfig %s: %w", path, err)
	}
	return atomicfile.Write(path, data, 0o600)
}
