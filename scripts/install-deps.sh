#!/usr/bin/env bash
# Install what berth needs to build and test on Debian 12, as root. Idempotent: when every
# package is already installed it touches nothing (and does not even run apt-get update).
set -euo pipefail

PKGS=(
	# build
	build-essential pkg-config libseccomp-dev libcap-dev libjson-c-dev
	libarchive-dev libsqlite3-dev libssl-dev libcurl4-openssl-dev zlib1g-dev nettle-dev
	clang libclang-rt-14-dev clang-format git
	# tests: images, peers, harness
	busybox-static crun runc podman containerd
	python3 python3-pytest python3-docker docker-compose jq hyperfine sqlite3
	procps util-linux iproute2 psmisc
	# networks: NAT and published ports (nft -f)
	nftables
	# tests: registries
	docker-registry apache2-utils openssl
)

die() { echo "install-deps: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root"
command -v apt-get >/dev/null || die "apt-get not found (this script is for Debian 12)"

missing=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#PKGS[@]} packages present"
	exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/berth-install-deps.XXXXXX)
trap 'rm -f "$log"' EXIT

run() {
	if ! "$@" >"$log" 2>&1; then
		cat "$log" >&2
		die "failed: $*"
	fi
}

run apt-get update -q
run apt-get install -y -q -o Dpkg::Use-Pty=0 "${missing[@]}"

# Check: apt-get can exit 0 and still leave a package out if its name changed.
for p in "${missing[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || die "package '$p' is still not installed"
done
echo "install-deps: done"
