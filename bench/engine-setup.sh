# Shared setup of bench/engine-vs-docker.sh, bench/pull-vs-docker.sh and
# bench/bridge-vs-docker.sh (sourced, not run): checks, the temp folder, the sweep on exit
# (daemons, mounts, cgroups, host paths the peers create; then bench_cleanup_extra if the
# sourcing script defines it), docker.io and podman presence, and a snapshot of build/bin.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${BERTH_CACHE:-$REPO/.cache}
BIN=${BERTH_BUILD:-$REPO/build/bin}

die() { echo "bench: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"
for b in berthd berth berth-shim berth-runtime; do
	[ -x "$BIN/$b" ] || die "no $b in $BIN (run make -j2)"
done
if [ -z "${SKIP_DOCKER:-}" ]; then
	command -v dockerd >/dev/null || die "no dockerd: apt-get install -y docker.io (or SKIP_DOCKER=1)"
	[ -x "${DOCKER_CLI:-/usr/bin/docker}" ] || die "no docker CLI at ${DOCKER_CLI:-/usr/bin/docker}"
fi
if [ -z "${SKIP_PODMAN:-}" ]; then
	command -v podman >/dev/null || die "no podman (or SKIP_PODMAN=1)"
fi

# Short: containerd and berthd put unix sockets under it.
BASE=$(mktemp -d /tmp/berth-eb.XXXXXX)
HUGETLB=/sys/fs/cgroup/hugetlb
mounted_hugetlb=0
made_hugetlb_dir=0
# Host paths the peers are known to create outside their roots: note which exist now.
WATCH=(/etc/docker/key.json /run/docker /var/run/docker.sock /run/containerd /var/lib/docker
	/var/lib/containerd /run/libpod /run/containers /var/lib/containers /etc/cni/net.d/87-podman.conflist)
existed=()
for p in "${WATCH[@]}"; do [ -e "$p" ] && existed+=("$p"); done
CG_PARENTS=(docker libpod_parent)
cg_existed=()
for c in "${CG_PARENTS[@]}"; do [ -d "/sys/fs/cgroup/memory/$c" ] && cg_existed+=("$c"); done

ov_before=$(grep -c ' - overlay ' /proc/self/mountinfo || true)

mounts_under() { # deepest first
	awk -v p="$1" '{ if ($5 == p || index($5, p "/") == 1) print $5 }' /proc/self/mountinfo | sort -r
}

cleanup() {
	local rc=$? pid f m pids c d
	# Daemons by their pid files (the helper normally stopped them already).
	for f in "$BASE/berth/berthd.pid" "$BASE/docker/dockerd.pid" \
		"$BASE/docker/run/containerd/containerd.pid"; do
		pid=$(cat "$f" 2>/dev/null) || continue
		if kill -0 "$pid" 2>/dev/null; then
			echo "bench: stopping leftover daemon $pid ($f)" >&2
			kill -TERM "$pid" 2>/dev/null || true
			for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
	# Shims and conmons whose command line names our folder.
	pids=$(grep -lF "$BASE" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3 || true)
	for pid in $pids; do
		[ "$pid" = $$ ] || [ ! -e "/proc/$pid" ] && continue
		echo "bench: killing leftover process $pid: $(tr '\0' ' ' </proc/$pid/cmdline 2>/dev/null | cut -c1-120)" >&2
		kill -KILL "$pid" 2>/dev/null || true
	done
	# Mounts under our folder.
	m=$(mounts_under "$BASE")
	if [ -n "$m" ]; then
		echo "bench: unmounting $(echo "$m" | wc -l) leftover mounts under $BASE" >&2
		echo "$m" | while read -r d; do umount "$d" 2>/dev/null || umount -l "$d" 2>/dev/null || true; done
	fi
	# What a sourcing script adds (bench/bridge-vs-docker.sh: its network namespace).
	if declare -F bench_cleanup_extra >/dev/null; then
		bench_cleanup_extra || true
	fi
	# Cgroups of containers we made: docker/ID and libpod_parent/* (we know no other
	# user of those here unless they existed before); berth/ID for ids we recorded.
	for c in "${CG_PARENTS[@]}"; do
		[[ " ${cg_existed[*]:-} " == *" $c "* ]] && continue
		for d in /sys/fs/cgroup/*/"$c"; do
			[ -d "$d" ] || continue
			find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
			[ -d "$d" ] && echo "bench: could not remove cgroup $d" >&2
		done
	done
	if [ -f "$BASE/berth-ids" ]; then
		while read -r id; do
			for d in /sys/fs/cgroup/*/berth/"$id"; do
				[ -d "$d" ] && { echo "bench: removing leftover cgroup $d" >&2; rmdir "$d" 2>/dev/null || true; }
			done
		done <"$BASE/berth-ids"
	fi
	if [ $mounted_hugetlb = 1 ]; then
		umount "$HUGETLB" 2>/dev/null || umount -l "$HUGETLB" 2>/dev/null || true
	fi
	if [ $made_hugetlb_dir = 1 ]; then
		rmdir "$HUGETLB" 2>/dev/null || true
	fi
	rm -rf "$BASE"
	# Host paths the peers made outside their roots.
	for f in "${WATCH[@]}"; do
		[[ " ${existed[*]:-} " == *" $f "* ]] && continue
		if [ -e "$f" ]; then
			echo "bench: a peer created $f; removing it: $(find "$f" | head -5 | tr '\n' ' ')" >&2
			rm -rf "$f"
		fi
	done
	echo "bench: overlay mounts (host-wide, any owner) before $ov_before, after $(grep -c ' - overlay ' /proc/self/mountinfo || true); under $BASE now: $(mounts_under "$BASE" | wc -l)" >&2
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# podman's crun refuses the hybrid cgroup layout here unless hugetlb is also mounted as v1.
if [ -z "${SKIP_PODMAN:-}" ] && [ -d /sys/fs/cgroup/unified ] && ! mountpoint -q "$HUGETLB"; then
	if [ ! -d "$HUGETLB" ]; then
		mkdir "$HUGETLB"
		made_hugetlb_dir=1
	fi
	# The kernel refuses (EBUSY) while the v2 hierarchy has child cgroups (e.g. another
	# user's berth/): podman then uses runc, as dockerd does.
	if mount -t cgroup -o hugetlb cgroup "$HUGETLB" 2>/dev/null; then
		mounted_hugetlb=1
	else
		echo "bench: cannot mount hugetlb as cgroup v1 (in use on v2); podman uses runc" >&2
		export PODMAN_RUNTIME=${PODMAN_RUNTIME:-runc}
	fi
fi

# A snapshot of the binaries: others may rebuild build/bin while this runs. berthd finds
# berth-shim beside itself, the shim berth-runtime.
SNAP=$BASE/bin
mkdir "$SNAP"
for b in "$BIN"/*; do
	case $b in *.debug) continue ;; esac
	[ -f "$b" ] && [ -x "$b" ] && cp -p "$b" "$SNAP/"
done
"$SNAP/berth" --version >/dev/null || die "the berth snapshot does not run (a build in progress?)"
