// Package metrics is how the controllers build their Prometheus metrics: each package
// makes its collectors with unexported fields and registers them here, in one way.
package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Register registers every collector with reg (none when reg is nil), naming what in the
// error of the first one that fails (e.g. a second registration of the same metric).
func Register(reg prometheus.Registerer, what string, collectors ...prometheus.Collector) error {
	if reg == nil {
		return nil
	}
	for _, c := range collectors {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("registering %s metrics: %w", what, err)
		}
	}
	return nil
}
