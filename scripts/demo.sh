#!/usr/bin/env bash
# berth's main job: start berthd, build a busybox image from Debian's busybox-static, and run
# a container from it with the berth client.
#
#   scripts/demo.sh [ARGS...]        default: echo hello from berth
#
# Needs root and a built tree (make -j2). Uses a private berthd (its own data-root, exec-root
# and socket in a temporary folder) in a network namespace of its own, where it makes its
# default bridge (berth0) and NAT table, so the host's network is not touched; leaves
# nothing behind but the image cache (${BERTH_CACHE:-REPO/.cache}).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${BERTH_CACHE:-$REPO/.cache}
BIN=${BERTH_BIN:-$REPO/build/bin}
[ $# -gt 0 ] || set -- echo hello from berth

[ "$(id -u)" = 0 ] || { echo "demo: must run as root" >&2; exit 1; }
for b in berthd berth berth-shim berth-runtime; do
	[ -x "$BIN/$b" ] || { echo "demo: no $b in $BIN (run make -j2)" >&2; exit 1; }
done

TMP=$(mktemp -d /tmp/berth-demo.XXXXXX)
SOCK=$TMP/run/berthd.sock
PID=
NS=berth-demo-$$
cleanup() {
	if [ -n "$PID" ]; then
		"$BIN/berth" -H "unix://$SOCK" rm -f $("$BIN/berth" -H "unix://$SOCK" ps -aq 2>/dev/null) \
			>/dev/null 2>&1 || true
		kill -TERM "$PID" 2>/dev/null || true
		for _ in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
	fi
	grep -o " $TMP[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
	rm -rf "$TMP"
	ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The image: busybox-static from Debian's archive, as a rootfs tarball.
"$REPO/tests/images/build-busybox.sh" "$CACHE/busybox" >/dev/null
tar -C "$CACHE/busybox/rootfs" -cf "$TMP/busybox.tar" .

ip netns add "$NS"
ip -n "$NS" link set lo up
nsenter --net="/run/netns/$NS" "$BIN/berthd" --data-root "$TMP/data" --exec-root "$TMP/run" \
	-H "unix://$SOCK" >"$TMP/berthd.log" 2>&1 &
PID=$!
for _ in $(seq 1 200); do [ -S "$SOCK" ] && break; sleep 0.05; done
[ -S "$SOCK" ] || { cat "$TMP/berthd.log" >&2; exit 1; }

B=("$BIN/berth" -H "unix://$SOCK")
"${B[@]}" import "$TMP/busybox.tar" busybox:latest >/dev/null
rc=0
"${B[@]}" run --rm busybox "$@" || rc=$?
exit $rc
