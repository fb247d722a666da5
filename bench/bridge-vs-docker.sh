#!/usr/bin/env bash
# `run --rm busybox true` on the DEFAULT BRIDGE network: berth (berth0 + its nft table) beside
# Debian's docker.io (dockerd with its default docker0 bridge and iptables rules) and podman
# (rootful default network, netavark), alternating, the order shuffled each round; the same with
# `--network none` in the same run, so the bridge's cost shows. Medians, p90, min, ratios and
# markdown rows for the README.
#
# Network safety: everything that touches networking happens in a network namespace made for
# the run (berth-bench-<pid>): berthd and dockerd (+ its containerd) are started in it with
# nsenter, and every podman command runs under nsenter too. Bridges, veths, iptables/nft rules
# and ip_forward change only there; deleting it at the end removes them all. Before timing,
# each peer must show an eth0 with an address on its bridge in that namespace. Outside it,
# rootful podman keeps its IPAM in /run/containers/networks/ipam.db whatever its flags (shared
# by every rootful podman on the machine; the addresses are released at each --rm), and makes
# each container's namespace in /run/netns (removed by podman; the sweep removes leftovers).
#
#   bench/bridge-vs-docker.sh     RUNS=50 MAX_SECONDS=900 (whole run; the rounds stop a minute
#                                 before it) SEED=1 (the order of each round) NONE_PEERS=all|berth
#                                 SKIP_DOCKER=1 SKIP_PODMAN=1 DOCKER_CLI=/usr/bin/docker
#                                 PODMAN_RUNTIME=crun|runc KEEP_LOG=DIR (copy the daemon logs)
# The setup and the sweep (daemons, mounts, cgroups, host paths the peers create) are
# engine-setup.sh's; this script adds the namespace, and at the end checks that the host's
# links, nft tables, netns list and forwarding sysctls are as they were.

source "$(dirname "${BASH_SOURCE[0]}")/engine-setup.sh"
for t in ip nsenter nft; do command -v $t >/dev/null || die "no $t"; done

NETNS=berth-bench-$$
made_netns=0
netns_was_mount=0
mountpoint -q /run/netns && netns_was_mount=1
netns_before=$(ls -1 /run/netns 2>/dev/null | sort || true)

# The host's network state, to compare at the end: links, nft tables, netns, sysctls.
host_net_state() {
	ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print "link " $2 }' | sort
	nft list tables 2>/dev/null | sed 's/^/nft /' | sort
	ls -1 /run/netns 2>/dev/null | sed 's/^/netns /' | sort
	for s in net/ipv4/ip_forward net/bridge/bridge-nf-call-iptables; do
		[ -r /proc/sys/$s ] && echo "sysctl $s=$(cat /proc/sys/$s)"
	done
	true
}
host_before=$(host_net_state)

# Called by engine-setup.sh's cleanup after the daemons are stopped and BASE is unmounted.
bench_cleanup_extra() {
	local ino p pids=() n name after left
	if [ $made_netns = 1 ] && [ -e "/run/netns/$NETNS" ]; then
		ino=$(stat -L -c %i "/run/netns/$NETNS" 2>/dev/null || true)
		for p in /proc/[0-9]*; do
			[ "$(readlink "$p/ns/net" 2>/dev/null)" = "net:[$ino]" ] && pids+=("${p#/proc/}")
		done
		if [ ${#pids[@]} -gt 0 ]; then
			echo "bench: ${#pids[@]} processes still in $NETNS: stopping them: ${pids[*]}" >&2
			kill -TERM "${pids[@]}" 2>/dev/null || true
			for _ in $(seq 50); do
				n=0
				for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && n=$((n + 1)); done
				[ $n = 0 ] && break
				sleep 0.1
			done
			kill -KILL "${pids[@]}" 2>/dev/null || true
		fi
		left=$(ip -n "$NETNS" -o link show type veth 2>/dev/null | awk -F': ' '{ print $2 }' || true)
		[ -n "$left" ] && echo "bench: veths left in $NETNS (deleted with it): $(echo $left)" >&2
		ip netns del "$NETNS" || echo "bench: could not delete netns $NETNS" >&2
	fi
	# podman makes each container's namespace in /run/netns (netns-<uuid>): any left that
	# its state under BASE names is ours.
	for name in $(ls -1 /run/netns 2>/dev/null); do
		grep -qxF "$name" <<<"$netns_before" && continue
		[ "$name" = "$NETNS" ] && continue
		if [ -d "$BASE/podman" ] && grep -rqaF "$name" "$BASE/podman" 2>/dev/null; then
			echo "bench: podman left netns $name: deleting it" >&2
			ip netns del "$name" 2>/dev/null || true
		else
			echo "bench: a netns appeared during the run, not ours (left alone): $name" >&2
		fi
	done
	if [ $netns_was_mount = 0 ] && mountpoint -q /run/netns && [ -z "$(ls -A /run/netns)" ]; then
		umount /run/netns 2>/dev/null || true
	fi
	after=$(host_net_state)
	if [ "$after" != "$host_before" ]; then
		echo "bench: the host's network state changed during the run (others may be at work):" >&2
		diff <(echo "$host_before") <(echo "$after") | grep '^[<>]' | sed 's/^/bench:   /' >&2 || true
	else
		echo "bench: host network state (links, nft tables, netns, ip_forward, bridge-nf) unchanged" >&2
	fi
}

ip netns add "$NETNS"
made_netns=1
ip -n "$NETNS" link set lo up

"$REPO/tests/images/build-busybox.sh" "$CACHE/busybox" >/dev/null
TAR=$BASE/busybox.tar
tar -C "$CACHE/busybox/rootfs" -cf "$TAR" .

rc=0
BERTH_BUILD=$SNAP /usr/bin/python3 -u "$REPO/bench/bridge_bench.py" "$BASE" "$TAR" "$NETNS" || rc=$?
if [ -n "${KEEP_LOG:-}" ]; then
	mkdir -p "$KEEP_LOG"
	cp "$BASE"/berth/berthd.log "$BASE"/docker/dockerd.log "$KEEP_LOG"/ 2>/dev/null || true
fi
exit $rc
