#!/usr/bin/env bash
# Run one container with berth-runtime: a busybox bundle built from Debian's busybox-static.
#
#   scripts/demo.sh [ARGS...]        default: echo hello from berth
#
# Needs root and a built tree (make -j2). Leaves nothing behind but the image cache
# (${BERTH_CACHE:-REPO/.cache}/busybox).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${BERTH_CACHE:-$REPO/.cache}
RT=${BERTH_RUNTIME:-$REPO/build/bin/berth-runtime}
[ $# -gt 0 ] || set -- echo hello from berth

[ "$(id -u)" = 0 ] || { echo "demo: must run as root" >&2; exit 1; }
[ -x "$RT" ] || { echo "demo: no runtime at $RT (run make -j2)" >&2; exit 1; }

TMP=$(mktemp -d /tmp/berth-demo.XXXXXX)
ID=berth-demo-$$
cleanup() {
	"$RT" --root "$TMP/state" delete --force "$ID" >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$REPO/tests/images/build-busybox.sh" "$CACHE/busybox"
"$REPO/tests/images/make-bundle.sh" "$CACHE/busybox/rootfs" "$TMP/bundle" -- "$@"
rc=0
"$RT" --root "$TMP/state" run --bundle "$TMP/bundle" "$ID" || rc=$?
exit $rc
