#!/bin/bash
# fuzz.sh: the fuzzers of tests/fuzz/ for FUZZ_SECONDS (default 60) each, in a
# clang build with AddressSanitizer and UndefinedBehaviorSanitizer (suite
# long).  Seeds: the repository's sweeps and test specs, and a small archive
# made by the ordinary build's kapitza.  Prints executions and findings; a
# finding is copied to FUZZ_FINDINGS (default BUILD/fuzz-findings) and fails
# the test: minimise it, fix the code, and keep the input in
# tests/fuzz/regress/<harness>/ so the default suite replays it.
#   usage: fuzz.sh SOURCE_ROOT BUILD_ROOT KAPITZA
set -uo pipefail
SRC=$1 BUILD=$2 KAPITZA=$(realpath "$3")
SECONDS_EACH=${FUZZ_SECONDS:-60}
FB="$BUILD/fuzz-build"
OUT=${FUZZ_FINDINGS:-$BUILD/fuzz-findings}
bash "$SRC/tests/deps.sh" --fuzz || exit 1
if [ ! -f "$FB/build.ninja" ]; then
	CC=clang meson setup "$FB" "$SRC" -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false >/dev/null || exit 1
fi
ninja -C "$FB" tests/fuzz/fuzz_spec tests/fuzz/fuzz_archive >/dev/null || exit 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/spec" "$work/archive" "$OUT"
# seeds, named after their folder (the same name may be in two)
for d in sweeps tests/engine/specs/good tests/engine/specs/bad \
	tests/fuzz/regress/spec; do
	for f in "$SRC/$d"/*; do
		[ -f "$f" ] && cp "$f" "$work/spec/${d//\//_}-$(basename "$f")"
	done
done
cp "$SRC"/tests/fuzz/regress/archive/* "$work/archive/" 2>/dev/null
cat >"$work/tiny.yaml" <<'YAML'
sweep: tiny
chain: { length: 8, coupling: 1.0, left: { delta: 0 }, right: { gamma: [pi/3] } }
state: [ground_state, domain_wall]
evolve: { dt: 0.05, t_max: 0.5, order: 2, measure_every: 0.25 }
truncate: { chi_max: 16, cutoff: 1.0e-10 }
measure: [energy, energy_current, magnetization, spin_current, entropy, rho3]
YAML
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
(cd "$work" && "$KAPITZA" run tiny.yaml -o archive/tiny.h5 -q &&
	"$KAPITZA" fit archive/tiny.h5 >/dev/null 2>&1; rm -rf archive/*.ckpt)
# MPI and HDF5 keep allocations until exit: leaks are not findings here
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
bad=0
for h in spec archive; do
	log="$work/$h.log"
	(cd "$work" && "$FB/tests/fuzz/fuzz_$h" -max_total_time="$SECONDS_EACH" \
		-rss_limit_mb=4096 -print_final_stats=1 \
		-artifact_prefix="$OUT/$h-" "$work/$h") >"$log" 2>&1
	rc=$?
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
	found=$(ls "$OUT" | grep -c "^$h-" || true)
	echo "fuzz_$h: ${runs:-?} executions in ${SECONDS_EACH} s, exit $rc, findings $found"
	if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
		grep -E "ERROR|SUMMARY|runtime error" "$log" | head -5
		bad=1
	fi
done
exit $bad
