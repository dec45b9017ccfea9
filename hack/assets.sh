#!/usr/bin/env bash
# Builds the control-plane binaries into bin/k8s/<version>/: hack/assets.sh [BINARY...] (see
# cmd/tlsbootstrap-assets/assets.sh, which importers run through `go run`).
exec bash "$(dirname "${BASH_SOURCE[0]}")/../cmd/tlsbootstrap-assets/assets.sh" "$@"
