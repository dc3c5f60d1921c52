#!/usr/bin/env bash
# Builds the library and the multi-threaded prediction test with ThreadSanitizer in
# build-tsan/ and runs the tests that call one model from many threads (through the network
# and through the folded tables load() builds).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-tsan
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTEXTCNN_TSAN=ON -DTEXTCNN_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target test_text_classifier
# Neither OpenBLAS nor Debian's libtbb is built with TSan, so TSan cannot see the
# happens-before edges inside them and reports their hand-offs as races (a worker filling a
# vector in a tbb::parallel_for, read by the caller after it returns). So: BLAS single-threaded,
# and the process pinned to one CPU, which makes oneTBB run every parallel loop on the calling
# thread. What remains are the test's own 8 std::threads sharing one model: the contract checked.
# No Boost.Test signal handlers: a sanitizer's abort ends the run with its report (sanitize.sh).
OPENBLAS_NUM_THREADS=1 TSAN_OPTIONS="halt_on_error=1" BOOST_TEST_CATCH_SYSTEM_ERRORS=no taskset -c 0 "$build/test_text_classifier" \
  --run_test=predict_from_eight_threads_equals_serial,folded_predict_from_eight_threads_equals_serial
