#!/usr/bin/env bash
# The whole test suite: build (plain and ASan/UBSan), unit tests of both builds, pytest
# integration suites, short fuzz runs. Prints each suite's summary as it goes and, as the
# very last line, "N passed, N failed" over all suites. Exits non-zero if anything failed.
#
# Environment: BERTH_CACHE (default REPO/.cache), FUZZ_SECONDS (default 10 per target),
# UNIT_TIMEOUT (default 300 s per unit binary), PYTEST_TIMEOUT (default 1200 s),
# PYTEST_ARGS (extra pytest arguments), SKIP_SAN=1, SKIP_FUZZ=1.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
export BERTH_CACHE=${BERTH_CACHE:-$REPO/.cache}
FUZZ_SECONDS=${FUZZ_SECONDS:-10}
UNIT_TIMEOUT=${UNIT_TIMEOUT:-300}
PYTEST_TIMEOUT=${PYTEST_TIMEOUT:-1200}
PY=/usr/bin/python3

PASS=0
FAIL=0
FAILED_NAMES=()
START=$(date +%s)

TMP=$(mktemp -d /tmp/berth-run-all.XXXXXX)

# Unmount anything left under $TMP (deepest first), then remove it. Silent: the summary
# line must stay the last line of output.
cleanup() {
	if [ -d "$TMP" ]; then
		awk -v t="$TMP" '$5 == t || index($5, t "/") == 1 {print $5}' /proc/self/mountinfo |
			sort -r | while IFS= read -r m; do
			umount -l "$m" 2>/dev/null || true
		done
		rm -rf "$TMP" 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

section() { printf '\n=== %s\n' "$*"; }
fail() { FAIL=$((FAIL + 1)); FAILED_NAMES+=("$1"); }
BUILD_OK=()

# ---------------------------------------------------------------- build
build() { # NAME MAKEARGS...
	local name=$1
	shift
	section "build: $name"
	if make -j2 "$@" >"$TMP/build-$name.log" 2>&1; then
		echo "build $name: ok"
		BUILD_OK+=("$name")
	else
		tail -n 40 "$TMP/build-$name.log"
		echo "build $name: FAILED"
		fail "build-$name"
	fi
}

# ---------------------------------------------------------------- unit tests
# A binary's "ok -" / "not ok -" lines count; a binary that dies before its summary line
# (crash, sanitizer report, timeout) counts one more failure.
unit_suite() { # NAME BUILDDIR
	local dir=$2 t name log rc p f
	section "unit: $dir"
	# Stale binaries from an earlier build would test old code: the build failure is counted.
	if [[ " ${BUILD_OK[*]} " != *" $1 "* ]]; then
		echo "skipped: build $1 failed"
		return
	fi
	# One binary per tests/unit/test-*.c: a stale binary whose source is gone is not run.
	shopt -s nullglob
	local srcs=(tests/unit/test-*.c)
	shopt -u nullglob
	if [ ${#srcs[@]} -eq 0 ]; then
		echo "no unit tests"
		return
	fi
	for t in "${srcs[@]}"; do
		name=$(basename "$t" .c)
		t=$dir/tests/$name
		if [ ! -x "$t" ]; then
			echo "$(basename "$dir")/$name: not built"
			fail "$dir/$name (not built)"
			continue
		fi
		log=$TMP/unit-$(basename "$dir")-$name.log
		rc=0
		timeout -k 10 "$UNIT_TIMEOUT" "$t" </dev/null >"$log" 2>&1 || rc=$?
		p=$(grep -c '^ok - ' "$log" || true)
		f=$(grep -c '^not ok - ' "$log" || true)
		PASS=$((PASS + p))
		FAIL=$((FAIL + f))
		if [ "$f" -gt 0 ]; then
			FAILED_NAMES+=("$dir/$name:$(grep '^not ok - ' "$log" | sed 's/^not ok - //' | tr '\n' ' ')")
		fi
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			fail "$dir/$name (exit $rc)"
			f=$((f + 1))
		elif ! tail -n 1 "$log" | grep -Eq '^[0-9]+ passed, [0-9]+ failed$'; then
			fail "$dir/$name (no summary line)"
			f=$((f + 1))
		fi
		if [ "$f" -gt 0 ]; then
			tail -n 60 "$log"
		fi
		printf '%s/%s: %d passed, %d failed%s\n' "$(basename "$dir")" "$name" "$p" "$f" \
			"$([ "$rc" -ne 0 ] && echo " (exit $rc)")"
	done
}

# ---------------------------------------------------------------- integration
# pytest_suite LABEL RUNTIME PATH...: the integration tests in PATH with BERTH_RUNTIME=RUNTIME.
pytest_suite() {
	local label=$1 runtime=$2
	shift 2
	section "integration: $label"
	shopt -s nullglob
	local files=(tests/integration/test_*.py)
	shopt -u nullglob
	if [ ${#files[@]} -eq 0 ]; then
		echo "no integration tests"
		return
	fi
	local rc=0 xml=$TMP/pytest-$label.xml
	# shellcheck disable=SC2086
	BERTH_RUNTIME=$runtime timeout -k 30 "$PYTEST_TIMEOUT" "$PY" -m pytest -q -p no:cacheprovider \
		-rfE --basetemp="$TMP/pytest-$label" --junitxml="$xml" ${PYTEST_ARGS:-} "$@" \
		</dev/null || rc=$?
	if [ "$rc" -eq 5 ]; then
		echo "integration: 0 passed, 0 failed (no tests collected)"
		return
	fi
	local counts
	if ! counts=$("$PY" - "$xml" <<'PYEOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
t = f = e = s = 0
for su in suites:
    t += int(su.get("tests", 0)); f += int(su.get("failures", 0))
    e += int(su.get("errors", 0)); s += int(su.get("skipped", 0))
print(t - f - e - s, f + e, s)
PYEOF
	); then
		echo "integration $label: pytest exited $rc without a readable report"
		fail "integration (pytest exit $rc)"
		return
	fi
	local p f s
	read -r p f s <<<"$counts"
	PASS=$((PASS + p))
	FAIL=$((FAIL + f))
	[ "$f" -gt 0 ] && FAILED_NAMES+=("integration $label: $f failed")
	# pytest exit 1 = some tests failed (counted above); anything else is the harness failing.
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
		fail "integration (pytest exit $rc)"
		f=$((f + 1))
	elif [ "$rc" -eq 1 ] && [ "$f" -eq 0 ]; then
		fail "integration (pytest exit 1, no failure counted)"
		f=$((f + 1))
	fi
	# The fixtures check each test; this catches what a test left outside them.
	local left
	left=$(awk -v t="$TMP" 'index($5, t "/") == 1 {print $5}' /proc/self/mountinfo)
	if [ -n "$left" ]; then
		echo "integration: mounts left behind: $left"
		fail "integration (mounts left behind)"
		f=$((f + 1))
	fi
	echo "integration $label: $p passed, $f failed, $s skipped"
}

# ---------------------------------------------------------------- fuzz
fuzz_suite() {
	section "fuzz"
	shopt -s nullglob
	local srcs=(tests/fuzz/fuzz-*.c)
	shopt -u nullglob
	if [ ${#srcs[@]} -eq 0 ]; then
		echo "no fuzz targets"
		return
	fi
	if ! command -v clang >/dev/null; then
		echo "fuzz: clang not found, skipped"
		return
	fi
	if ! make fuzz >"$TMP/build-fuzz.log" 2>&1; then
		tail -n 40 "$TMP/build-fuzz.log"
		echo "fuzz: build FAILED"
		fail "build-fuzz"
		return
	fi
	local src name bin corpus seeds log rc p=0 f=0
	for src in "${srcs[@]}"; do
		name=$(basename "$src" .c)
		bin=build-fuzz/fuzz/$name
		if [ ! -x "$bin" ]; then
			echo "fuzz $name: not built"
			fail "fuzz $name (not built)"
			f=$((f + 1))
			continue
		fi
		corpus=$BERTH_CACHE/fuzz-corpus/$name
		mkdir -p "$corpus" "$TMP/fuzz-artifacts"
		seeds=()
		[ -d "tests/fuzz/corpus/$name" ] && seeds=("tests/fuzz/corpus/$name")
		log=$TMP/$name.log
		rc=0
		timeout -k 10 $((FUZZ_SECONDS * 3 + 60)) "$bin" -max_total_time="$FUZZ_SECONDS" \
			-timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
			-artifact_prefix="$TMP/fuzz-artifacts/$name-" \
			"$corpus" "${seeds[@]}" </dev/null >"$log" 2>&1 || rc=$?
		if [ "$rc" -eq 0 ]; then
			p=$((p + 1))
			echo "fuzz $name: ok ($(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n 1)s)"
		else
			f=$((f + 1))
			tail -n 40 "$log"
			# Keep the crashing input where a person can find it after $TMP is gone.
			mkdir -p "$BERTH_CACHE/fuzz-crashes"
			cp "$TMP/fuzz-artifacts/$name"-* "$BERTH_CACHE/fuzz-crashes/" 2>/dev/null || true
			echo "fuzz $name: FAILED (exit $rc; inputs kept in $BERTH_CACHE/fuzz-crashes)"
			FAILED_NAMES+=("fuzz $name")
		fi
	done
	PASS=$((PASS + p))
	FAIL=$((FAIL + f))
	echo "fuzz: $p passed, $f failed"
}

# ---------------------------------------------------------------- main
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

build plain
[ "${SKIP_SAN:-0}" = 1 ] || build asan SAN=1
section "format"
if command -v clang-format >/dev/null; then
	if make -s format-check >"$TMP/format.log" 2>&1; then
		PASS=$((PASS + 1))
		echo "format: clang-format clean"
	else
		head -n 20 "$TMP/format.log"
		fail "format (run make format)"
	fi
fi
unit_suite plain build
[ "${SKIP_SAN:-0}" = 1 ] || unit_suite asan build-asan
pytest_suite all "${BERTH_RUNTIME:-$REPO/build/bin/berth-runtime}" tests/integration
# The runtime's own suites again with the ASan/UBSan binary.
[ "${SKIP_SAN:-0}" = 1 ] || pytest_suite asan "$REPO/build-asan/bin/berth-runtime" \
	tests/integration/test_runtime_smoke.py tests/integration/test_runtime_lifecycle.py \
	tests/integration/test_runtime_process.py tests/integration/test_security.py
[ "${SKIP_FUZZ:-0}" = 1 ] || fuzz_suite

section "summary ($(($(date +%s) - START)) s)"
if [ ${#FAILED_NAMES[@]} -gt 0 ]; then
	printf 'failed: %s\n' "${FAILED_NAMES[@]}"
fi
trap - EXIT
cleanup
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
