#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (clang, -fsanitize=fuzzer,address,undefined) in
# build-fuzz/, writes their seed corpora (fuzz/make_seeds.cpp) and runs each target.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# SECONDS per target (default 30: the smoke run of the test command); TARGET defaults to all
# of fuzz/fuzz_*.cpp. The corpus grows in build-fuzz/corpus/<target> (kept between runs, so
# a longer campaign continues where the last one stopped); a finding stops the script with
# the crashing input saved as build-fuzz/findings/<target>/crash-* and exit code 1.
# FUZZ_RUNS=N runs each target for N executions instead of SECONDS. Ctrl-C stops a campaign:
# the executions so far are printed (no finding) and the script exits 130.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TEXTCNN_FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${1:-30}
shift || true
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
if [[ ! -f $build/CMakeCache.txt ]]; then
  # -O1 with line tables (asserts on): what libFuzzer's documentation suggests, and a quicker build.
  cmake -S "$root" -B "$build" "${generator[@]}" "${launcher[@]}" -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DTEXTCNN_FUZZ=ON -DTEXTCNN_BUILD_APPS=OFF -DTEXTCNN_BUILD_TESTS=OFF \
    -DTEXTCNN_BUILD_BENCH=OFF -DTEXTCNN_INSTALL=OFF >/dev/null
fi
targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in "$root"/fuzz/fuzz_*.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi
cmake --build "$build" -j "$(nproc)" --target make_seeds "${targets[@]}"
"$build/make_seeds" "$build/seeds" "$root/tests/fixtures"

# ASan: leaks are findings; UBSan already aborts (-fno-sanitize-recover). One thread for
# OpenBLAS and oneTBB work the same; the limits stop an input that makes a parser slow or
# greedy (a finding too: the library must bound both).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OPENBLAS_NUM_THREADS=1
status=0
for target in "${targets[@]}"; do
  corpus=$build/corpus/$target
  findings=$build/findings/$target
  mkdir -p "$corpus" "$findings"
  budget=(-max_total_time="$seconds")
  [[ -n ${FUZZ_RUNS:-} ]] && budget=(-runs="$FUZZ_RUNS")
  log=$build/findings/$target.log
  start=$(date +%s)
  if "$build/$target" "$corpus" "$build/seeds/$target" "${budget[@]}" -max_len=65536 -timeout=10 \
       -rss_limit_mb=2048 -malloc_limit_mb=1024 -dict="$root/fuzz/dictionaries/$target.dict" \
       -artifact_prefix="$findings/" -print_final_stats=1 >"$log" 2>&1; then
    execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
    cov=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE).*cov:' "$log" | tail -1 | sed -E 's/.*cov: ([0-9]+).*/\1/')
    echo "fuzz: $target: ${execs:-?} executions in $(($(date +%s) - start)) s, coverage ${cov:-?} edges, no finding"
  elif grep -q 'libFuzzer: run interrupted; exiting' "$log"; then
    # Ctrl-C or SIGINT to the fuzzer (libFuzzer exits with 72): a campaign stopped, not a finding.
    execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
    echo "fuzz: $target: stopped by SIGINT after ${execs:-?} executions in $(($(date +%s) - start)) s, no finding"
    status=130
    break
  else
    echo "fuzz: $target: FINDING (log $log, inputs in $findings)" >&2
    tail -40 "$log" >&2
    status=1
  fi
done
exit $status
