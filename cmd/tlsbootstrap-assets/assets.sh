#!/usr/bin/env bash
# Builds the control-plane binaries that tests, the quickstart and the conformance runs use,
# from the Go module proxy:
#   etcd                     etcd ETCD_VERSION (default 3.6.5); about 1 minute the first time
#   kube-apiserver           Kubernetes K8S_VERSION (default 1.37.2); about 7 minutes on
#                            2 cores the first time, the longest step
#   kube-controller-manager  Kubernetes K8S_VERSION
#   kubelet-bootstrap        the real kubelet's certificate code (kubeletbootstrap/main.go),
#                            built against Kubernetes K8S_VERSION
# A real control plane (clustertest, the quickstart) needs etcd and kube-apiserver only; the
# comparisons with Kubernetes' own controllers and kubelet need the other two.
#
# Usage: assets.sh [BINARY...]      builds the BINARYs named (default: all four) into
#                                    bin/k8s/<k8s version>/ and prints that folder last
#        assets.sh --print-dir      prints the folder only (builds nothing)
# e.g.   hack/assets.sh etcd kube-apiserver      what `make demo` needs
#        hack/assets.sh                          all four: what `make assets` and `make test` run
# From another module: go run github.com/tlsbootstrap/tlsbootstrap/cmd/tlsbootstrap-assets@<version> [BINARY...]
# runs this script (embedded) with ASSETS_DIR in the user's cache folder.
#
# Idempotent: a binary that exists and answers --version (kube binaries: with the wanted
# version) is kept; only the missing ones of those asked for are built. KUBEBUILDER_ASSETS,
# when set, must hold the binaries asked for; it is then used as it is and nothing is built.
#
# Progress goes to stderr: a line per step and, while a step runs (a module download, a
# `go mod tidy`, a compile), a line every ASSETS_PROGRESS_INTERVAL seconds (default 30)
# with what is being done and the time it has taken so far. Stdout has the folder only.
# ASSETS_DIR, ASSETS_WORK (the throwaway build modules) and KUBELET_BOOTSTRAP_SRC override
# the repository-relative defaults. Sourced (not run), the script only defines its functions.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-3.6.5}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${ASSETS_DIR:-$ROOT/bin/k8s/$K8S_VERSION}"
WORK="${ASSETS_WORK:-$ROOT/bin/k8s/.build}"
KUBELET_BOOTSTRAP_SRC="${KUBELET_BOOTSTRAP_SRC:-$ROOT/cmd/tlsbootstrap-assets/kubeletbootstrap/main.go}"
PROGRESS_INTERVAL="${ASSETS_PROGRESS_INTERVAL:-30}"
ALL_BINARIES=(etcd kube-apiserver kube-controller-manager kubelet-bootstrap)

log() { printf '[assets] %s\n' "$*" >&2; }
die() { printf '[assets] error: %s\n' "$*" >&2; exit 1; }

usage() {
  cat >&2 <<USAGE
usage: assets.sh [BINARY...]   build the BINARYs (default: all) and print their folder
       assets.sh --print-dir   print the folder only
BINARY is one of: ${ALL_BINARIES[*]}
USAGE
}

# duration SECONDS: 45s, 3m30s, 1h02m03s.
duration() {
  local s="$1"
  if ((s >= 3600)); then printf '%dh%02dm%02ds' $((s / 3600)) $((s % 3600 / 60)) $((s % 60))
  elif ((s >= 60)); then printf '%dm%02ds' $((s / 60)) $((s % 60))
  else printf '%ds' "$s"
  fi
}

# progress WHAT CMD [ARG...]: runs CMD (a command or a function of this script) and, while it
# runs, logs "WHAT (<time> elapsed)" every PROGRESS_INTERVAL seconds; then logs how long it
# took. Returns CMD's exit status. A function given as CMD runs with errexit off (it is
# tested by ||), so it must test its own steps.
PROGRESS_PID=
progress() {
  local what="$1" start=$SECONDS status=0
  shift
  log "$what"
  progress_ticker "$what" "$start" &
  PROGRESS_PID=$!
  "$@" || status=$?
  stop_progress
  if ((status == 0)); then
    log "$what: done in $(duration $((SECONDS - start)))"
  else
    log "$what: failed after $(duration $((SECONDS - start))) (exit status $status)"
  fi
  return "$status"
}

# progress_ticker WHAT START: the background half of progress. It waits a second at a time
# and logs once PROGRESS_INTERVAL seconds have passed. A kill (TERM from stop_progress, or
# Ctrl-C's INT, trapped: bash does not make a background function ignore it as it does a
# plain background command) ends the wait at once, or, when it lands just before `wait`
# starts (bash then runs the trap only when the waited-for child ends), within a second:
# one long sleep would hold the step up to PROGRESS_INTERVAL. Should the script die without
# killing it, it ends at its next second.
progress_ticker() {
  local what="$1" start="$2" next=$(($2 + PROGRESS_INTERVAL)) sleeper=""
  # The sleep is killed and reaped: an orphan would outlive the script (a zombie where
  # nothing reaps orphans).
  trap '[[ -z "$sleeper" ]] || { kill "$sleeper" 2>/dev/null; wait "$sleeper"; }; exit 0' TERM INT HUP
  while :; do
    sleep 1 >/dev/null 2>&1 &
    sleeper=$!
    wait "$sleeper" || true
    kill -0 "$$" 2>/dev/null || exit 0 # $$ is the script, also in this subshell
    if ((SECONDS >= next)); then
      log "$what ($(duration $((SECONDS - start))) elapsed)"
      next=$((SECONDS + PROGRESS_INTERVAL))
    fi
  done
}

# stop_progress ends the ticker, if one runs: after each step, and on exit (trap below).
stop_progress() {
  if [[ -n "$PROGRESS_PID" ]]; then
    kill "$PROGRESS_PID" 2>/dev/null || true
    wait "$PROGRESS_PID" 2>/dev/null || true
    PROGRESS_PID=
  fi
}

# in_dir DIR CMD [ARG...]: runs CMD in DIR.
in_dir() { (cd "$1" && shift && "$@"); }

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

etcd_tidy() { in_dir "$1" env GOFLAGS=-mod=mod go mod tidy >/dev/null 2>"$1/tidy.log"; }

build_etcd() {
  local dir="$WORK/etcd-$ETCD_VERSION"
  mkdir -p "$dir"
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
  progress "etcd v$ETCD_VERSION: downloading and resolving modules" etcd_tidy "$dir" ||
    { cat "$dir/tidy.log" >&2; die "go mod tidy for etcd failed (log above)"; }
  progress "building etcd v$ETCD_VERSION" in_dir "$dir" go build -o "$OUT/etcd.tmp" go.etcd.io/etcd/server/v3 ||
    die "building etcd failed (compiler output above)"
  mv "$OUT/etcd.tmp" "$OUT/etcd"
}

kube_download() { in_dir "$1" env GOFLAGS= go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" >"$1/download.json"; }
kube_tidy() { in_dir "$1" env GOFLAGS=-mod=mod go mod tidy >/dev/null 2>"$1/tidy.log"; }

# build_kube BINARY...: builds the named binaries of kube-apiserver, kube-controller-manager
# and kubelet-bootstrap in one throwaway module that requires k8s.io/kubernetes.
build_kube() {
  local dir="$WORK/kubernetes-$K8S_VERSION"
  mkdir -p "$dir"
  progress "downloading k8s.io/kubernetes v$K8S_VERSION (large; a few minutes the first time)" kube_download "$dir" ||
    die "could not download k8s.io/kubernetes@v$K8S_VERSION (go output above)"
  local gomod
  gomod="$(sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' "$dir/download.json")"
  [[ -f "$gomod" ]] || die "could not download k8s.io/kubernetes@v$K8S_VERSION: no go.mod in $dir/download.json"
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
  # The module holds the packages of the binaries asked for only, so that go mod tidy
  # downloads no more than they need.
  local b imports=""
  rm -rf "$dir/cmd/kubelet-bootstrap"
  for b in "$@"; do
    case "$b" in
      kubelet-bootstrap)
        # The real kubelet's bootstrap code as a small program (see kubeletbootstrap/main.go).
        mkdir -p "$dir/cmd/kubelet-bootstrap"
        sed '/^\/\/go:build ignore/d' "$KUBELET_BOOTSTRAP_SRC" >"$dir/cmd/kubelet-bootstrap/main.go" ;;
      *) imports+=$'\t_ "k8s.io/kubernetes/cmd/'"$b"$'"\n' ;;
    esac
  done
  printf '//go:build tools\n\npackage tools\n\nimport (\n%s)\n' "$imports" >"$dir/tools.go"
  progress "kubernetes v$K8S_VERSION: downloading and resolving modules for $*" kube_tidy "$dir" ||
    { tail -20 "$dir/tidy.log" >&2; die "go mod tidy for kubernetes failed (end of its log above)"; }
  local major="${K8S_VERSION%%.*}" minor="${K8S_VERSION#*.}" ldflags="-s -w" vpkg pkg
  minor="${minor%%.*}"
  for vpkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $vpkg.gitVersion=v$K8S_VERSION -X $vpkg.gitMajor=$major -X $vpkg.gitMinor=$minor -X $vpkg.gitTreeState=clean"
  done
  for b in "$@"; do
    pkg="k8s.io/kubernetes/cmd/$b"
    [[ "$b" == kubelet-bootstrap ]] && pkg="./cmd/kubelet-bootstrap"
    local hint=""
    [[ "$b" != kube-apiserver ]] || hint=" (about 7 minutes on 2 cores the first time)"
    progress "building $b v$K8S_VERSION$hint" \
      in_dir "$dir" go build -ldflags "$ldflags" -o "$OUT/$b.tmp" "$pkg" ||
      die "building $b failed (compiler output above)"
    mv "$OUT/$b.tmp" "$OUT/$b"
  done
}

main() {
  local want=() b w
  if (($# == 1)) && [[ "$1" == --print-dir ]]; then
    if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then echo "$KUBEBUILDER_ASSETS"; else echo "$OUT"; fi
    return 0
  fi
  for b in "$@"; do
    case "$b" in
      -h|--help) usage; return 0 ;;
      etcd|kube-apiserver|kube-controller-manager|kubelet-bootstrap) ;;
      *) usage; die "unknown binary or option: $b" ;;
    esac
  done
  # The binaries asked for, in the order of ALL_BINARIES, each once; none named means all.
  for w in "${ALL_BINARIES[@]}"; do
    if (($# == 0)) || [[ " $* " == *" $w "* ]]; then want+=("$w"); fi
  done

  if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
    for b in "${want[@]}"; do
      works "$KUBEBUILDER_ASSETS/$b" || die "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS has no working $b (v$K8S_VERSION); unset it to build the binaries here"
    done
    log "using KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS (${want[*]})"
    echo "$KUBEBUILDER_ASSETS"
    return 0
  fi

  local present=() missing=() kube=()
  for b in "${want[@]}"; do
    if works "$OUT/$b"; then
      present+=("$b")
    else
      missing+=("$b")
      [[ "$b" == etcd ]] || kube+=("$b")
    fi
  done
  ((${#present[@]} == 0)) || log "present in $OUT: ${present[*]}"
  if ((${#missing[@]} > 0)); then
    command -v go >/dev/null || die "go is not on PATH"
    mkdir -p "$OUT" "$WORK"
    log "building into $OUT: ${missing[*]}"
    # Not `cond || build_...`: a function called in a || list runs with errexit off.
    if [[ " ${missing[*]} " == *" etcd "* ]]; then build_etcd; fi
    if ((${#kube[@]} > 0)); then build_kube "${kube[@]}"; fi
  fi

  for b in "${want[@]}"; do
    works "$OUT/$b" || die "$OUT/$b does not run --version"
    log "$b: $("$OUT/$b" --version 2>&1 | head -1)"
  done
  echo "$OUT"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  trap stop_progress EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  main "$@"
fi
