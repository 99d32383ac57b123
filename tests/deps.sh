#!/bin/sh
# SPDX-License-Identifier: MIT
# Make sure the Debian packages the build or the tests need are present
# (`make deps`, which every build target runs first; the lists are in the
# Makefile).  Usage: deps.sh "<debian packages>" "<pkg-config modules>"
# As root, the missing packages are installed with apt-get, all in one run;
# otherwise the exact apt-get line is printed and the build stops before
# anything is compiled.  Then each pkg-config module must be found.
pkgs=$1
mods=$2
missing=""
if command -v dpkg-query >/dev/null 2>&1; then
	for p in $pkgs; do
		st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)
		case "$st" in
		ii*) ;;
		*) missing="$missing $p" ;;
		esac
	done
fi
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		echo "deps: missing Debian packages; install them as root with:" >&2
		echo "    apt-get install --no-install-recommends$missing" >&2
		exit 1
	fi
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	log=$(mktemp)
	# A fresh machine has no package lists yet.
	if ! apt-get update >"$log" 2>&1 ||
	    ! apt-get install -y --no-install-recommends $missing \
	    >>"$log" 2>&1; then
		tail -n 30 "$log" >&2
		echo "deps: apt-get install$missing failed (above)" >&2
		rm -f "$log"
		exit 1
	fi
	rm -f "$log"
fi
status=0
for m in $mods; do
	if ! pkg-config --exists "$m" 2>/dev/null; then
		echo "deps: pkg-config cannot find module $m" \
		    "($(pkg-config --print-errors --exists "$m" 2>&1 |
		    head -n 1))" >&2
		status=1
	fi
done
exit $status
