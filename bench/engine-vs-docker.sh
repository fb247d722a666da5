#!/usr/bin/env bash
# berth beside Debian's docker.io (dockerd + containerd, started here with private roots and
# no host networking) and podman (private --root/--runroot, --network none), alternating:
#   1. `run --rm --network none busybox true`: RUNS each; berth's CLI, the docker CLI against
#      berthd, docker, podman; median and p90
#   2. COUNT sequential `run -d --network none busybox sleep 600`; then one `rm -f` of them all
#   3. `ps` and `ps -a` with PS_SMALL and PS_BIG created containers (median of PS_REPS)
#   4. VmRSS of berthd, dockerd + containerd idle and with COUNT running; per-container shims
#      (berth-shim, containerd-shim-runc-v2, podman's conmon)
# Prints a table, markdown rows for the README and whether the goals hold.
#
#   bench/engine-vs-docker.sh     RUNS=30 COUNT=100 PS_SMALL=100 PS_BIG=1000 PS_REPS=10
#                                 MAX_SECONDS=2400 (whole run) BIG_SECONDS=240 (per engine,
#                                 creating PS_BIG containers); SKIP_DOCKER=1 SKIP_PODMAN=1;
#                                 DOCKER_CLI=/usr/bin/docker (used for dockerd and berthd);
#                                 PODMAN_RUNTIME=crun|runc (default: podman's, crun)
# Everything lives in one temp folder (/tmp/berth-eb.XXXXXX); the daemons are stopped and
# the folder, its mounts and the cgroups of its containers are removed at the end.

source "$(dirname "${BASH_SOURCE[0]}")/engine-setup.sh"

# The cached busybox rootfs, as one tarball every engine imports.
"$REPO/tests/images/build-busybox.sh" "$CACHE/busybox" >/dev/null
TAR=$BASE/busybox.tar
tar -C "$CACHE/busybox/rootfs" -cf "$TAR" .

BERTH_BUILD=$SNAP /usr/bin/python3 -u "$REPO/bench/engine_bench.py" "$BASE" "$TAR"
