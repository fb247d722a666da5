#!/usr/bin/env bash
# Time `RUNTIME run` of the same busybox bundle (args: true) for berth-runtime, Debian's crun
# and, if present, runc. The runtimes alternate (order rotated every round), each run has a
# unique id and each runtime a private --root. Prints median, p90 and mean per runtime, the
# berth/crun ratio, and a markdown table row for the README.
#
#   bench/runtime-vs-crun.sh            RUNS=50 by default; MAX_SECONDS=600 bounds the loop
#   BERTH_RUNTIME=path                  another berth-runtime binary
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${BERTH_CACHE:-$REPO/.cache}
RUNS=${RUNS:-50}
MAX_SECONDS=${MAX_SECONDS:-600}
BERTH=${BERTH_RUNTIME:-$REPO/build/bin/berth-runtime}

die() { echo "bench: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"
[ -x "$BERTH" ] || die "no berth-runtime at $BERTH (run make -j2)"
command -v crun >/dev/null || die "crun not found (scripts/install-deps.sh)"

# State roots on tmpfs, as /run is for runc and crun by default.
TMP=$(mktemp -d /run/berth-bench.XXXXXX)
HUGETLB=/sys/fs/cgroup/hugetlb
mounted_hugetlb=0
made_hugetlb_dir=0

cleanup() {
	local r id
	for r in "$TMP"/root-*; do
		[ -d "$r" ] || continue
		for id in "$r"/*/; do
			[ -d "$id" ] || continue
			"$(cat "$r.bin")" --root "$r" delete --force "$(basename "$id")" >/dev/null 2>&1 || true
		done
	done
	if [ $mounted_hugetlb = 1 ]; then
		umount "$HUGETLB" 2>/dev/null || umount -l "$HUGETLB" 2>/dev/null || true
	fi
	if [ $made_hugetlb_dir = 1 ]; then
		rmdir "$HUGETLB" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# crun 1.8 refuses the hybrid cgroup layout here unless hugetlb is also mounted as v1.
if [ -d /sys/fs/cgroup/unified ] && ! mountpoint -q "$HUGETLB"; then
	if [ ! -d "$HUGETLB" ]; then
		mkdir "$HUGETLB"
		made_hugetlb_dir=1
	fi
	mount -t cgroup -o hugetlb cgroup "$HUGETLB"
	mounted_hugetlb=1
fi

"$REPO/tests/images/build-busybox.sh" "$CACHE/busybox"
"$REPO/tests/images/make-bundle.sh" "$CACHE/busybox/rootfs" "$TMP/bundle" -- true
# A second bundle to check that each runtime really runs the container before timing it.
"$REPO/tests/images/make-bundle.sh" --link "$CACHE/busybox/rootfs" "$TMP/check" -- echo berth-bench-ok

runtimes=("berth=$BERTH" "crun=$(command -v crun)")
command -v runc >/dev/null && runtimes+=("runc=$(command -v runc)")
for rt in "${runtimes[@]}"; do
	mkdir -p "$TMP/root-${rt%%=*}"
	echo "${rt#*=}" >"$TMP/root-${rt%%=*}.bin"
done

/usr/bin/python3 -u - "$TMP" "$RUNS" "$MAX_SECONDS" "${runtimes[@]}" <<'PYEOF'
import math, os, subprocess, sys, time

tmp, runs, max_s = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
rts = [a.split("=", 1) for a in sys.argv[4:]]
bundle = os.path.join(tmp, "bundle")
times = {n: [] for n, _ in rts}
fails = {n: 0 for n, _ in rts}
first_err = {}
t_end = time.monotonic() + max_s

def one(name, binary, i):
    root = os.path.join(tmp, "root-" + name)
    cid = f"bench-{name}-{i}"
    cmd = [binary, "--root", root, "run", "--bundle", bundle, cid]
    t0 = time.perf_counter_ns()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=30)
        rc, err = p.returncode, p.stderr
    except subprocess.TimeoutExpired:
        rc, err = "timeout", b""
    dt = time.perf_counter_ns() - t0
    if rc == 0:
        times[name].append(dt / 1e6)
    else:
        fails[name] += 1
        first_err.setdefault(name, f"exit {rc}: {err.decode(errors='replace').strip()[:300]}")
    if os.path.isdir(os.path.join(root, cid)):  # not removed by run: remove, untimed
        subprocess.run([binary, "--root", root, "delete", "--force", cid],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)

# Check each runtime prints what the container says; drop those that do not.
ok_rts = []
for name, binary in rts:
    root = os.path.join(tmp, "root-" + name)
    p = subprocess.run([binary, "--root", root, "run", "--bundle", os.path.join(tmp, "check"),
                        f"check-{name}"], stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    if p.returncode == 0 and p.stdout == b"berth-bench-ok\n":
        ok_rts.append((name, binary))
    else:
        print(f"bench: {name} does not run containers correctly (exit {p.returncode}, "
              f"stdout {p.stdout[:100]!r}, stderr {p.stderr.decode(errors='replace').strip()[:300]!r})",
              file=sys.stderr)
        fails[name] = runs
    if os.path.isdir(os.path.join(root, f"check-{name}")):
        subprocess.run([binary, "--root", root, "delete", "--force", f"check-{name}"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
broken = {n: fails[n] for n, _ in rts}
rts_all, rts = rts, ok_rts

# One untimed warm-up each (page cache, first-run costs).
for name, binary in rts:
    one(name, binary, "warmup")
    times[name].clear()
    fails[name] = broken[name]
    first_err.pop(name, None)

done = 0
for i in range(runs):
    if time.monotonic() > t_end:
        print(f"bench: stopped after {i} rounds (MAX_SECONDS={max_s:g})", file=sys.stderr)
        break
    k = i % len(rts)
    for name, binary in rts[k:] + rts[:k]:
        one(name, binary, i)
    done += 1

def pct(xs, q):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    return xs[max(0, math.ceil(q * len(xs)) - 1)]  # nearest rank

def med(xs):
    xs = sorted(xs)
    n = len(xs)
    if not n:
        return float("nan")
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2

print(f"\n`RUNTIME run` of a busybox bundle running `true`, {done} runs each, alternating\n")
print(f"{'runtime':<8} {'ok':>5} {'fail':>5} {'median ms':>10} {'p90 ms':>8} {'mean ms':>8}")
stats = {}
for name, _ in rts_all:
    xs = times[name]
    m, p90 = med(xs), pct(xs, 0.9)
    mean = sum(xs) / len(xs) if xs else float("nan")
    stats[name] = (m, p90)
    print(f"{name:<8} {len(xs):>5} {fails[name]:>5} {m:>10.2f} {p90:>8.2f} {mean:>8.2f}")
for name, e in first_err.items():
    print(f"  {name} failed: {e}")

b, c = stats["berth"][0], stats["crun"][0]
ratio = b / c if times["berth"] and times["crun"] else float("nan")
print(f"\nberth/crun (median): {ratio:.2f}")
if "runc" in stats and times["runc"] and times["berth"]:
    print(f"berth/runc (median): {b / stats['runc'][0]:.2f}")

def cell(name):
    if name not in stats or not times[name]:
        return "n/a"
    m, p = stats[name]
    return f"{m:.1f} ms (p90 {p:.1f})"

print("\nMarkdown (README):\n")
print("| benchmark | berth-runtime | crun | runc | berth/crun |")
print("|---|---|---|---|---|")
print(f"| `run` busybox `true`, median of {done} | {cell('berth')} | {cell('crun')} | {cell('runc')} | "
      + (f"{ratio:.2f}x" if ratio == ratio else "n/a") + " |")
sys.exit(1 if fails["berth"] or not times["berth"] else 0)
PYEOF
