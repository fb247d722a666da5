#!/usr/bin/env bash
# Build a busybox root filesystem from Debian's busybox-static package.
#
#   tests/images/build-busybox.sh OUTDIR      -> OUTDIR/rootfs
#
# Cached: when OUTDIR/rootfs exists and OUTDIR/stamp names the same busybox-static version
# and layout, nothing is done. The .deb is kept in ${BERTH_CACHE:-REPO/.cache}/debs so CI
# can reuse it without the network.
set -euo pipefail

# Bump when the tree this script makes changes, so old caches are rebuilt.
LAYOUT=1

die() { echo "build-busybox: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 OUTDIR"
OUT=$1
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${BERTH_CACHE:-$REPO/.cache}
DEBS=$CACHE/debs
ARCH=$(dpkg --print-architecture)

# The version we want: the installed one (install-deps.sh installs it), else apt's candidate.
ver=$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null || true)
if [ -z "$ver" ]; then
	ver=$(apt-cache policy busybox-static 2>/dev/null | awk '/Candidate:/ {print $2}')
	[ "$ver" = "(none)" ] && ver=
fi

stamp="busybox-static $ver $ARCH layout $LAYOUT"
if [ -n "$ver" ] && [ -d "$OUT/rootfs" ] && [ "$(cat "$OUT/stamp" 2>/dev/null)" = "$stamp" ]; then
	exit 0
fi

mkdir -p "$DEBS" "$OUT"

deb_version() { dpkg-deb -f "$1" Version 2>/dev/null; }

# Find a .deb of the wanted version: our cache, apt's cache, then apt-get download.
find_deb() {
	local f
	for f in "$DEBS"/busybox-static_*_"$ARCH".deb /var/cache/apt/archives/busybox-static_*_"$ARCH".deb; do
		[ -f "$f" ] || continue
		if [ -z "$ver" ] || [ "$(deb_version "$f")" = "$ver" ]; then
			echo "$f"
			return 0
		fi
	done
	return 1
}

deb=$(find_deb || true)
if [ -z "$deb" ]; then
	spec=busybox-static${ver:+=$ver}
	log=$(mktemp)
	# Download as root into our folder (apt's _apt sandbox user may not be able to write it).
	if ! (cd "$DEBS" && apt-get download -q -o APT::Sandbox::User=root "$spec") >"$log" 2>&1; then
		apt-get update -q >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; die "apt-get update failed"; }
		if ! (cd "$DEBS" && apt-get download -q -o APT::Sandbox::User=root "$spec") >"$log" 2>&1; then
			cat "$log" >&2
			rm -f "$log"
			die "cannot download $spec"
		fi
	fi
	rm -f "$log"
	deb=$(find_deb || true)
	[ -n "$deb" ] || die "downloaded $spec but cannot find the .deb in $DEBS"
fi
[ -n "$ver" ] || ver=$(deb_version "$deb")
stamp="busybox-static $ver $ARCH layout $LAYOUT"
# Keep a copy in our cache (cheap, and survives apt-get clean).
case "$deb" in "$DEBS"/*) ;; *) cp -f "$deb" "$DEBS/" ;; esac

# Build next to the target and rename at the end, so a half-built tree is never used.
tmp=$(mktemp -d "$OUT/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dpkg -x "$deb" "$tmp/pkg"
bb=$tmp/pkg/bin/busybox
[ -x "$bb" ] || die "no bin/busybox in $deb"

R=$tmp/rootfs
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,etc,root,dev,proc,sys,tmp,var/tmp,home}
chmod 0755 "$R"
install -m 0755 "$bb" "$R/bin/busybox"

# Applet links, relative, in the folders busybox itself names (bin/sh, usr/bin/wget, ...).
n=0
while IFS= read -r path; do
	path=${path#/}
	case "$path" in "" | bin/busybox) continue ;; esac
	dir=${path%/*}
	[ "$dir" = "$path" ] && { dir=bin; path=bin/$path; }
	[ -e "$R/$path" ] || [ -L "$R/$path" ] && continue
	mkdir -p "$R/$dir"
	up=$(echo "$dir" | sed 's|[^/][^/]*|..|g')
	ln -s "$up/bin/busybox" "$R/$path"
	n=$((n + 1))
done < <("$bb" --list-full 2>/dev/null || "$bb" --list)
[ "$n" -gt 100 ] || die "only $n applet links made"
[ -L "$R/bin/sh" ] || die "no /bin/sh applet"

cat >"$R/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
cat >"$R/etc/group" <<'GR'
root:x:0:
tty:x:5:
nogroup:x:65534:
GR
echo busybox >"$R/etc/hostname"
: >"$R/etc/hosts"
: >"$R/etc/resolv.conf"
chmod 0644 "$R/etc/passwd" "$R/etc/group" "$R/etc/hostname" "$R/etc/hosts" "$R/etc/resolv.conf"
chmod 0700 "$R/root"
chmod 1777 "$R/tmp" "$R/var/tmp"
chown -R 0:0 "$R"

rm -rf "$OUT/rootfs.old"
[ -d "$OUT/rootfs" ] && mv "$OUT/rootfs" "$OUT/rootfs.old"
mv "$R" "$OUT/rootfs"
rm -rf "$OUT/rootfs.old"
echo "$stamp" >"$OUT/stamp"
echo "build-busybox: $OUT/rootfs from busybox-static $ver ($n applets)"
