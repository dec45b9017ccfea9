#!/usr/bin/env bash
# Runs the tests that need a control plane against each supported Kubernetes version:
#   hack/test-versions.sh [VERSION...]     (default: the three newest minors below)
# For each version it builds the binaries into bin/k8s/<version>/ (hack/assets.sh, cached),
# runs `go test ./...` with KUBEBUILDER_ASSETS pointing there, and prints the packages
# passed. Then the kubelet's own bootstrap code at the oldest version
# (kubelet-bootstrap) bootstraps against the project's controller on the newest control
# plane: the node/control-plane skew kubeadm allows. Exits non-zero if any run failed.
set -uo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(1.35.4 1.36.3 1.37.2)
logs=${LOGDIR:-bin/test-versions}
mkdir -p "$logs"
fail=0
rows=()
for v in "${versions[@]}"; do
	echo "test-versions: Kubernetes $v: building the binaries (cached after the first time)" >&2
	if ! K8S_VERSION=$v bash hack/assets.sh >"$logs/assets-$v.log" 2>&1; then
		echo "test-versions: building $v failed; see $logs/assets-$v.log" >&2
		rows+=("$(printf '%-8s %s' "$v" "binaries did not build")")
		fail=1
		continue
	fi
	echo "test-versions: Kubernetes $v: go test ./... (log: $logs/test-$v.log)" >&2
	KUBEBUILDER_ASSETS="$PWD/bin/k8s/$v" $GO test -count=1 ./... >"$logs/test-$v.log" 2>&1 || fail=1
	passed=$(grep -c '^ok ' "$logs/test-$v.log")
	failed=$(grep -c '^FAIL\s' "$logs/test-$v.log")
	rows+=("$(printf '%-8s %3d passed, %d failed%s' "$v" "$passed" "$failed" "$( [ "$failed" = 0 ] || grep '^FAIL\s' "$logs/test-$v.log" | awk '{printf " %s", $2}')")")
done

# Skew: the oldest kubelet's bootstrap code against the newest control plane.
oldest=${versions[0]} newest=${versions[${#versions[@]}-1]}
if [ "$oldest" != "$newest" ] && [ -x "bin/k8s/$oldest/kubelet-bootstrap" ]; then
	skew=$(mktemp -d)
	trap 'rm -rf "$skew"' EXIT
	for b in etcd kube-apiserver kube-controller-manager; do ln -s "$PWD/bin/k8s/$newest/$b" "$skew/$b"; done
	ln -s "$PWD/bin/k8s/$oldest/kubelet-bootstrap" "$skew/kubelet-bootstrap"
	echo "test-versions: kubelet-bootstrap $oldest against control plane $newest" >&2
	if KUBEBUILDER_ASSETS=$skew $GO test -count=1 -run 'Kubelet' ./examples >"$logs/skew.log" 2>&1; then
		rows+=("$(printf '%-8s %s' "skew" "kubelet $oldest → control plane $newest: ok")")
	else
		rows+=("$(printf '%-8s %s' "skew" "kubelet $oldest → control plane $newest: FAILED (see $logs/skew.log)")")
		fail=1
	fi
fi

printf '%s\n' "${rows[@]}"
exit $fail
