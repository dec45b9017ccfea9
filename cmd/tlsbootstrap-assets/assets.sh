#!/usr/bin/env bash
# Builds the control-plane binaries that tests, the quickstart and the conformance runs use:
# etcd, kube-apiserver and kube-controller-manager, from the Go module proxy.
#
# Idempotent: a binary that exists and answers --version is kept. KUBEBUILDER_ASSETS, when
# set and holding the three binaries, is used as it is and nothing is built.
#
# Usage: hack/assets.sh            builds into bin/k8s/<k8s version>/ and prints that folder last
#        hack/assets.sh --print-dir   prints the folder only (builds nothing)
# From another module: go run github.com/tlsbootstrap/tlsbootstrap/cmd/tlsbootstrap-assets@<version>
# runs this script (embedded) with ASSETS_DIR in the user's cache folder.
# ASSETS_DIR, ASSETS_WORK (the throwaway build modules) and KUBELET_BOOTSTRAP_SRC override
# the repository-relative defaults.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-3.6.5}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${ASSETS_DIR:-$ROOT/bin/k8s/$K8S_VERSION}"
WORK="${ASSETS_WORK:-$ROOT/bin/k8s/.build}"
KUBELET_BOOTSTRAP_SRC="${KUBELET_BOOTSTRAP_SRC:-$ROOT/cmd/tlsbootstrap-assets/kubeletbootstrap/main.go}"
BINARIES=(etcd kube-apiserver kube-controller-manager kubelet-bootstrap)

log() { printf '[assets] %s\n' "$*" >&2; }
die() { printf '[assets] error: %s\n' "$*" >&2; exit 1; }

if [[ "${1:-}" == "--print-dir" ]]; then
  if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then echo "$KUBEBUILDER_ASSETS"; else echo "$OUT"; fi
  exit 0
fi

# A binary "works" when it runs --version; kube binaries must also report the wanted version,
# and kubelet-bootstrap its serving mode (a binary built before --serving existed is rebuilt).
works() {
  [[ -x "$1" ]] || return 1
  local out
  out="$("$1" --version 2>&1)" || return 1
  case "$(basename "$1")" in
    kubelet-bootstrap) [[ "$out" == *"v$K8S_VERSION"* && "$out" == *serving* ]] ;;
    kube-*|kubelet-*) [[ "$out" == *"v$K8S_VERSION"* ]] ;;
    *) return 0 ;;
  esac
}

if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
  for b in "${BINARIES[@]}"; do
    works "$KUBEBUILDER_ASSETS/$b" || die "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS has no working $b; unset it to build the binaries here"
  done
  log "using KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS"
  echo "$KUBEBUILDER_ASSETS"
  exit 0
fi

command -v go >/dev/null || die "go is not on PATH"
mkdir -p "$OUT" "$WORK"

build_etcd() {
  local dir="$WORK/etcd-$ETCD_VERSION"
  mkdir -p "$dir"
  log "etcd v$ETCD_VERSION: preparing module (about 1 minute the first time)"
  cat >"$dir/go.mod" <<MOD
module assets/etcd

go 1.26

require go.etcd.io/etcd/server/v3 v$ETCD_VERSION

replace (
	go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 v$ETCD_VERSION
	go.etcd.io/etcd/client/pkg/v3 => go.etcd.io/etcd/client/pkg/v3 v$ETCD_VERSION
	go.etcd.io/etcd/client/v3 => go.etcd.io/etcd/client/v3 v$ETCD_VERSION
	go.etcd.io/etcd/pkg/v3 => go.etcd.io/etcd/pkg/v3 v$ETCD_VERSION
)
MOD
  cat >"$dir/tools.go" <<'SRC'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
SRC
  (cd "$dir" && GOFLAGS=-mod=mod go mod tidy >/dev/null 2>"$dir/tidy.log") || { cat "$dir/tidy.log" >&2; die "go mod tidy for etcd failed"; }
  log "etcd v$ETCD_VERSION: building"
  (cd "$dir" && go build -o "$OUT/etcd" go.etcd.io/etcd/server/v3) || die "building etcd failed"
}

build_kube() {
  local dir="$WORK/kubernetes-$K8S_VERSION"
  mkdir -p "$dir"
  log "kubernetes v$K8S_VERSION: downloading the module (large; a few minutes the first time)"
  local gomod
  gomod="$(cd "$dir" && GOFLAGS= go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  [[ -f "$gomod" ]] || die "could not download k8s.io/kubernetes@v$K8S_VERSION"
  # The module zip has no staging/ tree: every staging module the upstream go.mod replaces
  # with a local path is taken from the proxy at the matching v0.x.y instead.
  local staging_version="0.${K8S_VERSION#1.}"
  {
    echo "module assets/kubernetes"
    echo
    echo "go 1.26"
    echo
    echo "require k8s.io/kubernetes v$K8S_VERSION"
    echo
    echo "replace ("
    sed -n 's#^[[:space:]]*\(k8s.io/[A-Za-z0-9._-]*\) => ./staging/src/.*#\t\1 => \1 v'"$staging_version"'#p' "$gomod"
    echo ")"
  } >"$dir/go.mod"
  grep -q 'k8s.io/api =>' "$dir/go.mod" || die "found no staging replace block in $gomod"
  cat >"$dir/tools.go" <<'SRC'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
SRC
  # The real kubelet's bootstrap code as a small program (see kubeletbootstrap/main.go).
  mkdir -p "$dir/cmd/kubelet-bootstrap"
  sed '/^\/\/go:build ignore/d' "$KUBELET_BOOTSTRAP_SRC" >"$dir/cmd/kubelet-bootstrap/main.go"
  log "kubernetes v$K8S_VERSION: resolving dependencies"
  (cd "$dir" && GOFLAGS=-mod=mod go mod tidy >/dev/null 2>"$dir/tidy.log") || { tail -20 "$dir/tidy.log" >&2; die "go mod tidy for kubernetes failed"; }
  for b in kube-apiserver kube-controller-manager kubelet-bootstrap; do
    if works "$OUT/$b"; then continue; fi
    local pkg="k8s.io/kubernetes/cmd/$b"
    [[ "$b" == kubelet-bootstrap ]] && pkg="./cmd/kubelet-bootstrap"
    log "$b v$K8S_VERSION: building (about 7 minutes the first time, cached afterwards)"
    local major="${K8S_VERSION%%.*}" minor="${K8S_VERSION#*.}"; minor="${minor%%.*}"
    local ldflags="-s -w"
    for vpkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags+=" -X $vpkg.gitVersion=v$K8S_VERSION -X $vpkg.gitMajor=$major -X $vpkg.gitMinor=$minor -X $vpkg.gitTreeState=clean"
    done
    (cd "$dir" && go build -ldflags "$ldflags" -o "$OUT/$b.tmp" "$pkg") || die "building $b failed"
    mv "$OUT/$b.tmp" "$OUT/$b"
  done
}

if works "$OUT/etcd"; then log "etcd: present"; else build_etcd; fi
if works "$OUT/kube-apiserver" && works "$OUT/kube-controller-manager" && works "$OUT/kubelet-bootstrap"; then
  log "kube-apiserver, kube-controller-manager, kubelet-bootstrap: present"
else
  build_kube
fi

for b in "${BINARIES[@]}"; do
  works "$OUT/$b" || die "$OUT/$b does not run --version"
  log "$b: $("$OUT/$b" --version 2>&1 | head -1)"
done
echo "$OUT"
