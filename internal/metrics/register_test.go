package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestRegister(t *testing.T) {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "test_total", Help: "h"})
	if err := Register(nil, "test", c); err != nil {
		t.Fatalf("nil registry: %v", err)
	}
	reg := prometheus.NewRegistry()
	if err := Register(reg, "test", c); err != nil {
		t.Fatal(err)
	}
	err := Register(reg, "test", c)
	if err == nil || !strings.Contains(err.Error(), "registering test metrics") {
		t.Fatalf("second registration: %v, want an error naming the metrics", err)
	}
}
