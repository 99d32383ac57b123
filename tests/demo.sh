#!/bin/sh
# SPDX-License-Identifier: MIT
# make demo [API=graph|alerts|siem] [FORMAT=cef|leef|json]: start the
# bundled simulator (Entra ID and the Defender APIs) and a loopback syslog
# collector, run mdesiemd --once against them, show the messages the
# collector received, and say in two lines what ran.  The default is what
# a new user starts with: Microsoft Graph alerts_v2 (api = graph) as CEF.
# Exit status: mdesiemd's, or 1 when not every alert arrived.
set -u
BUILD=${BUILD:-build}
API=${API:-graph}
FORMAT=${FORMAT:-cef}
COUNT=25
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

case "$API" in
graph)
	what="Microsoft Graph alerts_v2 (api = graph, the default source)"
	path=/graph/v1.0/security/alerts_v2
	sim_count="--count 0 --graph-count $COUNT"
	corpus=/_sim/alerts?api=graph
	;;
alerts)
	what="the Defender for Endpoint Alert API (api = alerts)"
	path=/mde/api/alerts
	sim_count="--count 0 --alerts-count $COUNT"
	corpus=/_sim/alerts?api=alerts
	;;
siem)
	what="the legacy SIEM API (api = siem, deprecated by Microsoft)"
	path=/siem/api/alerts
	sim_count="--count $COUNT"
	corpus=/_sim/corpus
	;;
*)
	echo "demo: API=$API: use API=graph, alerts or siem" >&2
	exit 2
	;;
esac
case "$FORMAT" in
cef | leef | json) ;;
*)
	echo "demo: FORMAT=$FORMAT: use FORMAT=cef, leef or json" >&2
	exit 2
	;;
esac

work=$(mktemp -d /tmp/mdesiem-demo.XXXXXX)
sim_pid=""
col_pid=""
cleanup() {
	[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null
	[ -n "$col_pid" ] && kill "$col_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

wait_file() {
	i=0
	while [ ! -s "$1" ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -s "$1" ] || {
		echo "demo: $2 did not start" >&2
		exit 1
	}
}

# shellcheck disable=SC2086 # sim_count is a list of options
python3 tests/sim/mdesim.py --port 0 --port-file "$work/sim.port" \
    $sim_count --hostile-ratio 0.2 --seed 42 --quiet >/dev/null &
sim_pid=$!
python3 tests/sim/collector.py --port 0 --port-file "$work/col.port" \
    --out "$work/received.jsonl" --framing lf >/dev/null 2>&1 &
col_pid=$!
wait_file "$work/sim.port" simulator
wait_file "$work/col.port" collector
sim_port=$(cat "$work/sim.port")
col_port=$(cat "$work/col.port")

umask 077
cat >"$work/mdesiem.conf" <<CONF
# The values a SIEM engineer copies from the app registration; here they
# point at the bundled simulator on loopback.
[azure]
tenant_id = 00000000-0000-0000-0000-000000000001
client_id = 11111111-1111-1111-1111-111111111111
client_secret = sim-secret
login_url = http://127.0.0.1:$sim_port

[source]
api = $API
url = http://127.0.0.1:$sim_port$path
start_from = 24h

[output]
format = $FORMAT
transport = tcp
host = 127.0.0.1
port = $col_port
framing = lf
header = rfc5424
; the demo's collector takes any size, and a fifth of its detections are
; hostile, some with 4,100-character ids that alone pass the tcp default
; (4096, QRadar's limit): they would be skipped (README, "Message size
; and receivers")
max_message_size = 8096

[state]
directory = $work/state
CONF

"$BUILD/mdesiemd" -c "$work/mdesiem.conf" --once 2>"$work/daemon.log"
rc=$?
cat "$work/daemon.log" >&2
# A record the daemon refused (its never-cut values alone pass
# max_message_size) is logged and counted as a bad record, not lost quietly.
bad=$(sed -n 's/.*run complete: .* \([0-9][0-9]*\) bad records.*/\1/p' \
    "$work/daemon.log" | tail -n 1)
n_src=$(python3 -c "import json, urllib.request; print(len(json.load(
    urllib.request.urlopen('http://127.0.0.1:$sim_port$corpus'))))")
echo
python3 - "$work/received.jsonl" "$work/count" <<'PY'
import base64, json, sys, time
# the collector writes each message as it reads it: wait for the last one
prev, n, lines = -1, 0, []
for _ in range(50):
    try:
        lines = open(sys.argv[1], "rb").read().splitlines()
    except OSError:
        lines = []
    if len(lines) == prev:
        break
    prev = len(lines)
    time.sleep(0.1)
for line in lines:
    try:
        msg = base64.b64decode(json.loads(line)["b64"]).decode(
            "utf-8", "replace")
    except ValueError:
        continue
    n += 1
    if n <= 4:
        print(msg if len(msg) <= 400 else msg[:400] + " [... %d bytes]"
              % len(msg))
        print()
if n > 4:
    print("... and %d more\n" % (n - 4))
open(sys.argv[2], "w").write("%d\n" % n)
PY
n=$(cat "$work/count" 2>/dev/null || echo 0)
fmt=$(echo "$FORMAT" | tr a-z A-Z)
echo "demo: ran $BUILD/mdesiemd --once: $what from the bundled simulator," \
    "$fmt over TCP to a loopback collector"
skipped=""
[ -n "$bad" ] && [ "$bad" -gt 0 ] &&
	skipped=" ($bad skipped as bad records: the log above says why)"
echo "demo: $n of $n_src alerts delivered$skipped, exit status $rc;" \
    "others: make demo API=graph|alerts|siem FORMAT=cef|leef|json"
[ "$rc" -eq 0 ] || exit "$rc"
[ "$n" -eq $((n_src - ${bad:-0})) ] && [ "$n" -gt 0 ] || exit 1
exit 0
