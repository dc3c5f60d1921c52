#!/usr/bin/env bash
# Builds the library and the multi-threaded prediction test with ThreadSanitizer in
# build-tsan/ and runs the tests that call one model from many threads (through the network
# and through the folded tables load() builds).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-tsan
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTEXTCNN_TSAN=ON -DTEXTCNN_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target test_text_classifier
# OpenBLAS's own threads are not instrumented; run BLAS single-threaded so TSan sees only ours.
OPENBLAS_NUM_THREADS=1 TSAN_OPTIONS="halt_on_error=1" "$build/test_text_classifier" --run_test=predict_from_eight_threads_equals_serial,folded_predict_from_eight_threads_equals_serial
