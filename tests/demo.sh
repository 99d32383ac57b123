#!/bin/sh
# SPDX-License-Identifier: MIT
# make demo: start the bundled simulator (Entra ID + the SIEM API) and a
# loopback syslog collector, run mdesiemd --once against them, and show the
# CEF lines the collector received.
set -u
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
work=$(mktemp -d /tmp/mdesiem-demo.XXXXXX)
sim_pid=""
col_pid=""
cleanup() {
	[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null
	[ -n "$col_pid" ] && kill "$col_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

wait_file() {
	i=0
	while [ ! -s "$1" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -s "$1" ] || { echo "demo: $2 did not start" >&2; exit 1; }
}

python3 tests/sim/mdesim.py --port 0 --port-file "$work/sim.port" \
    --count 25 --hostile-ratio 0.2 --seed 42 --quiet >/dev/null &
sim_pid=$!
python3 tests/sim/collector.py --port 0 --port-file "$work/col.port" \
    --out "$work/received.jsonl" --framing lf >/dev/null 2>&1 &
col_pid=$!
wait_file "$work/sim.port" simulator
wait_file "$work/col.port" collector
sim_port=$(cat "$work/sim.port")
col_port=$(cat "$work/col.port")

umask 077
cat > "$work/mdesiem.conf" <<CONF
# The values a SIEM engineer copies from the Defender SIEM integration;
# here they point at the bundled simulator on loopback.
[azure]
tenant_id = 00000000-0000-0000-0000-000000000001
client_id = 11111111-1111-1111-1111-111111111111
client_secret = sim-secret
login_url = http://127.0.0.1:$sim_port

[source]
api = siem
url = http://127.0.0.1:$sim_port/siem/api/alerts
start_from = 24h

[output]
format = cef
transport = tcp
host = 127.0.0.1
port = $col_port
framing = lf
header = rfc5424

[state]
directory = $work/state
CONF

echo "demo: simulator on 127.0.0.1:$sim_port, collector on 127.0.0.1:$col_port"
echo "demo: running $BUILD/mdesiemd --once"
"$BUILD/mdesiemd" -c "$work/mdesiem.conf" --once
rc=$?
sleep 0.3
echo
echo "demo: CEF lines received by the collector:"
python3 - "$work/received.jsonl" <<'PY'
import base64, json, sys
n = 0
for line in open(sys.argv[1], "rb"):
    msg = base64.b64decode(json.loads(line)["b64"]).decode("utf-8", "replace")
    n += 1
    if n <= 8:
        print(msg if len(msg) <= 700 else msg[:700] + " [... %d bytes]" % len(msg))
        print()
if n > 8:
    print("... and %d more" % (n - 8))
print()
print("demo: %d detections delivered as CEF over TCP" % n)
PY
n_src=$(python3 -c "import json,urllib.request;print(len(json.load(urllib.request.urlopen('http://127.0.0.1:$sim_port/_sim/corpus'))))")
echo "demo: simulator held $n_src detections; mdesiemd exit status $rc"
exit $rc
