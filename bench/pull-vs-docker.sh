#!/usr/bin/env bash
# `pull` of a multi-layer image (>= 150 MB compressed, random data, built here as a
# docker-archive tar, `berth load`ed and pushed once) from Debian's docker-registry on
# 127.0.0.1: berth, the docker CLI against berthd, Debian's docker.io (private dockerd +
# containerd, as bench/engine-vs-docker.sh starts it) and podman (private roots), alternating,
# the image removed between runs; medians, ratios and markdown rows for the README.
#
#   bench/pull-vs-docker.sh     RUNS=3 LAYERS=6 LAYER_MB=28 MAX_SECONDS=1800
#                               SKIP_DOCKER=1 SKIP_PODMAN=1 DOCKER_CLI=/usr/bin/docker
# The setup and the sweep (daemons, mounts, cgroups, host paths the peers create) are
# engine-vs-docker.sh's; everything lives in one temp folder (/tmp/berth-eb.XXXXXX).

source "$(dirname "${BASH_SOURCE[0]}")/engine-setup.sh"
command -v docker-registry >/dev/null || die "no docker-registry: apt-get install -y docker-registry"

BERTH_BUILD=$SNAP /usr/bin/python3 -u "$REPO/bench/pull_bench.py" "$BASE"
