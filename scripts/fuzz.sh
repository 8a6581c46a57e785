#!/usr/bin/env bash
# Runs every fuzz target in the repository, one at a time, each for a given
# time, and fails if any of them finds a crasher. Not part of scripts/test.sh:
# fuzzing takes as long as it is given (go test runs each target's seed
# corpus already, as an ordinary test).
#
# Usage: scripts/fuzz.sh [-t DURATION] [-r REGEXP] [-j WORKERS] [PACKAGES...]
#   -t DURATION  fuzzing time per target, as go test -fuzztime takes it (default 10m)
#   -r REGEXP    only targets whose name matches REGEXP (default: all)
#   -j WORKERS   go test -parallel, fuzzing workers per target (default 1,
#                so the machine stays usable; targets never run side by side)
#   PACKAGES     go package patterns (default ./...)
#
# Targets are discovered with go test -list, so a new FuzzXxx is picked up
# with no change here. A crasher is written by go test to the package's
# testdata/fuzz/FuzzXxx/, where it stays as a regression seed once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=10m
match=.
workers=1
while getopts "t:r:j:h" opt; do
	case $opt in
	t) fuzztime=$OPTARG ;;
	r) match=$OPTARG ;;
	j) workers=$OPTARG ;;
	*)
		sed -n '2,16s/^# \{0,1\}//p' "$0" >&2
		exit 2
		;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- ./...

logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

failed=()
for pkg in $(go list "$@"); do
	# -list compiles the package's tests and prints the matching names,
	# then an "ok" line, which is not a target.
	targets=$(go test -list '^Fuzz' "$pkg" | grep -E '^Fuzz' | grep -E -- "$match" || true)
	for target in $targets; do
		log="$logdir/$target.log"
		echo "fuzz.sh: $pkg $target for $fuzztime" >&2
		rc=0
		# -timeout 0: go test's default time-out (10m) equals the default
		# -fuzztime, and ran out just as fuzzing ended.
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -timeout 0 -parallel "$workers" "$pkg" >"$log" 2>&1 || rc=$?
		# The last progress line has the totals:
		# "fuzz: elapsed: 10m0s, execs: 123 (0/sec), new interesting: 4 (total: 9)".
		last=$(grep -E '^fuzz: elapsed:' "$log" | tail -n 1 || true)
		execs=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$last")
		newi=$(sed -nE 's/.*new interesting: ([0-9]+).*/\1/p' <<<"$last")
		if [ "$rc" -eq 0 ]; then
			result=ok
		elif ! grep -q 'Failing input written' "$log" && grep -q 'context deadline exceeded' "$log"; then
			# Go 1.26's fuzzing coordinator can report the end of -fuzztime
			# itself as "context deadline exceeded", with no input (Go issue
			# 75804, fixed in Go 1.27): not a crasher.
			result=WARN
		else
			result=FAIL
			failed+=("$pkg $target")
			# go test names the crasher it kept ("Failing input written to
			# testdata/fuzz/FuzzXxx/..."), and how to re-run it.
			grep -E -A2 -- '--- FAIL|Failing input written|panic:|fuzz_test.go|_test.go:[0-9]+:' "$log" | head -n 40 >&2 || true
		fi
		# One line per target as it finishes, so a long run shows progress.
		printf '%-4s %-45s %-24s %s execs=%-10s new-interesting=%s\n' "$result" "$pkg" "$target" "$fuzztime" "${execs:-?}" "${newi:-?}"
	done
done

if [ ${#failed[@]} -gt 0 ]; then
	printf 'fuzz.sh: crashers found by:\n' >&2
	printf '  %s\n' "${failed[@]}" >&2
	exit 1
fi
