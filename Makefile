# tlsbootstrap: the targets a developer and CI use.
GO ?= go
GOTESTFLAGS ?=

.PHONY: all assets demo-assets test vet fmt-check demo test-versions

all: test

# The control-plane binaries, built once into bin/k8s/<version>/ and reused (hack/assets.sh;
# it logs its steps to stderr, and a line every 30 s while one runs; stdout, the folder,
# is dropped). `assets` builds all four: etcd, kube-apiserver, kube-controller-manager and
# kubelet-bootstrap, which the tests need (comparisons with Kubernetes' own controllers and
# kubelet). `demo-assets` builds the two that the quickstart runs, etcd and kube-apiserver.
assets:
	bash hack/assets.sh >/dev/null

demo-assets:
	bash hack/assets.sh etcd kube-apiserver >/dev/null

vet:
	$(GO) vet ./...

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './bin/*'))"; \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

test: assets vet
	$(GO) test -race $(GOTESTFLAGS) ./...

# The quickstart's first compile takes a minute or more on a cold Go cache: it prints
# progress as the asset builds do.
demo: demo-assets
	@bash -c 'source cmd/tlsbootstrap-assets/assets.sh && progress "building examples/quickstart" $(GO) build -o bin/quickstart ./examples/quickstart'
	bin/quickstart

# Fuzzing: every fuzz target in turn for FUZZTIME (default 60s each), executions per target.
FUZZTIME ?= 60s
FUZZSMOKETIME ?= 3s
.PHONY: fuzz fuzz-smoke reliability
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) bash hack/fuzz.sh

# A few seconds per target: what CI and `make reliability` run.
fuzz-smoke:
	FUZZTIME=$(FUZZSMOKETIME) GO=$(GO) bash hack/fuzz.sh

# Reliability campaign (fuzz smoke, malicious CSR corpus, secret scan, node-agent kills):
# one summary. KILLS (default 200) node-agent SIGKILLs.
reliability: assets
	GO=$(GO) bash hack/reliability.sh

# The tests that need a control plane, against each supported Kubernetes version (1.35,
# 1.36, 1.37), and the oldest kubelet's bootstrap against the newest control plane. Not in
# .ci/run: building two more versions takes about half an hour the first time.
test-versions:
	bash hack/test-versions.sh
