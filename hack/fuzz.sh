#!/usr/bin/env bash
# Runs every fuzz target of the module in turn for FUZZTIME each and prints the executions
# per target. Usage: FUZZTIME=60s hack/fuzz.sh [summary-file]
# A crasher makes go test write it under the package's testdata/fuzz/<Target>/ (commit it:
# it becomes a regression case of `go test`) and this script exit non-zero.
set -uo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
FUZZTIME=${FUZZTIME:-60s}
# Minimizing a new input re-runs the target many times; crypto under coverage
# instrumentation is slow, so bound it or a worker seems to hang.
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-5s}
summary=${1:-}

# "pkgdir FuzzName" for every fuzz target, sorted.
targets=$(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' . | grep -v '^./bin/' |
	sed -E 's#^\./(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)$#\1 \2#' | sort -u)

fuzz() {
	$GO test -run '^$' -fuzz "^${2}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" "./$1" >"$log" 2>&1
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
fail=0
rows=()
while read -r dir name; do
	[ -n "$dir" ] || continue
	echo "fuzz: $dir $name for $FUZZTIME" >&2
	# The engine's own -fuzztime deadline can end a short run while a worker is busy; it
	# then reports "context deadline exceeded" with no failing input. Up to two more runs
	# tell that apart from a finding (which always writes its input and fails again).
	status=FAIL
	for attempt in 1 2 3; do
		if fuzz "$dir" "$name"; then
			status=ok
			[ "$attempt" = 1 ] || status="ok (rerun)"
			break
		fi
		if grep -q 'Failing input written to' "$log" || ! grep -q 'context deadline exceeded' "$log"; then
			break
		fi
	done
	if [ "$status" = FAIL ]; then
		fail=1
		sed 's/^/    /' "$log" | tail -20 >&2
	fi
	# The last progress line holds the total: "fuzz: elapsed: 5s, execs: 12345 (2469/sec), ..."
	execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | awk '{print $2}')
	rows+=("$(printf '%-12s %-24s %12s  %s' "$dir" "$name" "${execs:-0}" "$status")")
done <<<"$targets"

{
	printf '%-12s %-24s %12s  %s\n' PACKAGE TARGET EXECS RESULT
	printf '%s\n' "${rows[@]}"
} | tee ${summary:+"$summary"}
exit $fail
