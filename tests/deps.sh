#!/bin/sh
# SPDX-License-Identifier: MIT
# Make sure the Debian packages the build or the tests need are present.
# Usage: deps.sh "<debian packages>" "<pkg-config modules>"
# As root, missing packages are installed with apt-get; otherwise the exact
# apt-get line is printed and the build stops.
pkgs=$1
mods=$2
missing=""
for p in $pkgs; do
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)
	case "$st" in
	ii*) ;;
	*) missing="$missing $p" ;;
	esac
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "deps: installing$missing"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >/dev/null 2>&1 || apt-get update
		apt-get install -y -qq --no-install-recommends $missing >/dev/null \
		    || { echo "deps: apt-get install$missing failed" >&2; exit 1; }
	else
		echo "deps: missing Debian packages:$missing" >&2
		echo "deps: run: sudo apt-get install$missing" >&2
		exit 1
	fi
fi
for m in $mods; do
	if ! pkg-config --exists "$m"; then
		echo "deps: pkg-config cannot find $m" >&2
		exit 1
	fi
done
exit 0
