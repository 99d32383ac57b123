#!/bin/sh
# SPDX-License-Identifier: MIT
# The quick benchmark (tests/bench/run --quick, as `make bench-quick`) runs
# end to end: simulator, daemon, collector and floor; the table is printed
# and the collector counted every detection.  Nothing about speed is
# asserted: numbers are for `make bench` to print, not for tests to judge.
BUILD=${BUILD:-build}
export BUILD
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
pass=0
fail=0
check() {
	if eval "$1"; then
		pass=$((pass + 1))
		echo "ok   $2"
	else
		fail=$((fail + 1))
		echo "FAIL $2"
	fi
}

python3 tests/bench/run.py --quick >"$out" 2>&1
rc=$?
check '[ "$rc" -eq 0 ]' "bench --quick exits 0"
check 'grep -q "^| source | format | backlog | det/s |" "$out"' \
    "the table is printed"
check 'grep -Eq "^\| siem \| cef \| 5000 \| [0-9]+ \|" "$out"' \
    "the siem/cef row has figures"
check 'grep -q "^delivered siem/cef 5000: the sink counted 5000 lines" "$out"' \
    "the sink counted every detection"
check '! grep -q "^FAILED" "$out"' "no run failed"
if [ "$fail" -ne 0 ]; then
	echo "--- bench output:"
	cat "$out"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
