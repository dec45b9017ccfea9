# tlsbootstrap: the targets a developer and CI use.
GO ?= go
GOTESTFLAGS ?=

.PHONY: all assets test vet fmt-check demo

all: test

# Builds etcd, kube-apiserver and kube-controller-manager into bin/k8s/<version>/ (once).
assets:
	bash hack/assets.sh >/dev/null

vet:
	$(GO) vet ./...

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './bin/*'))"; \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

test: assets vet
	$(GO) test -race $(GOTESTFLAGS) ./...

demo: assets
	$(GO) run ./examples/quickstart
