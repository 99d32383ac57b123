#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs every test suite and prints one closing line: "N passed, N failed".
# Each suite prints its own "N passed, N failed" as its last line, and a
# line starting with "skip" for each case it could not run here; those
# are listed before the closing line, never counted as passed.
BUILD=${BUILD:-build}
export BUILD
# a golden-file rewrite must never happen inside the test run
unset UPDATE_GOLDEN
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top" || exit 1
total_pass=0
total_fail=0
log=$(mktemp)
skips=$(mktemp)
run_suite() {
	name=$1
	shift
	t0=$(date +%s)
	"$@" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - t0))
	last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	p=$(echo "$last" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
	f=$(echo "$last" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	if [ -z "$p" ]; then
		p=0
		f=1
	fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	if [ "$f" -ne 0 ]; then
		echo "== $name: FAILED ($secs s)"
		cat "$log"
	else
		echo "== $name: $p passed ($secs s)"
	fi
	grep -E '^skip' "$log" | sed "s|^|$name: |" >>"$skips"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
}
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	run_suite "unit/$(basename "$t")" "$t"
done
for t in tests/integration/test_*.py; do
	[ -f "$t" ] || continue
	run_suite "integration/$(basename "$t" .py)" python3 "$t"
done
for t in tests/integration/test_*.sh; do
	[ -f "$t" ] || continue
	run_suite "integration/$(basename "$t" .sh)" sh "$t"
done
if [ -s "$skips" ]; then
	echo "== not run on this machine ($(wc -l <"$skips") cases):"
	cat "$skips"
fi
rm -f "$log" "$skips"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
