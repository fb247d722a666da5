#!/usr/bin/env bash
# Make an OCI bundle: BUNDLEDIR/rootfs (a copy of ROOTFS) and BUNDLEDIR/config.json from
# tests/images/config.template.json (runc's default spec, with terminal false and a writable
# root), with process.args set to ARGS when given.
#
#   tests/images/make-bundle.sh [--link] ROOTFS BUNDLEDIR [-- ARGS...]
#
# --link hard-links the files instead of copying them (faster; the container then shares
# inodes with ROOTFS, so use it only for containers that do not write to existing files).
set -euo pipefail

die() { echo "make-bundle: $*" >&2; exit 1; }
usage() { die "usage: $0 [--link] ROOTFS BUNDLEDIR [-- ARGS...]"; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEMPLATE=$HERE/config.template.json

cp_flags=-a
if [ "${1:-}" = --link ]; then
	cp_flags=-al
	shift
fi
[ $# -ge 2 ] || usage
ROOTFS=$1 BUNDLE=$2
shift 2
have_args=0
if [ $# -gt 0 ]; then
	[ "$1" = -- ] || usage
	shift
	have_args=1
	[ $# -gt 0 ] || die "no ARGS after --"
fi

[ -x "$ROOTFS/bin/sh" ] || [ -L "$ROOTFS/bin/sh" ] || die "'$ROOTFS' does not look like a root filesystem"
command -v jq >/dev/null || die "jq is needed (scripts/install-deps.sh)"
[ ! -e "$BUNDLE/rootfs" ] || die "'$BUNDLE/rootfs' already exists"

mkdir -p "$BUNDLE"
cp $cp_flags "$ROOTFS" "$BUNDLE/rootfs"
if [ $have_args = 1 ]; then
	# One --arg per argument: jq 1.6 would take "-c" and the like after --args as its own.
	jqargs=() expr='' i=0
	for a in "$@"; do
		jqargs+=(--arg "a$i" "$a")
		expr+="${expr:+,}\$a$i"
		i=$((i + 1))
	done
	jq "${jqargs[@]}" ".process.args = [$expr]" "$TEMPLATE" >"$BUNDLE/config.json.tmp"
else
	cp "$TEMPLATE" "$BUNDLE/config.json.tmp"
fi
mv "$BUNDLE/config.json.tmp" "$BUNDLE/config.json"
