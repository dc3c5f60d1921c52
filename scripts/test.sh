#!/usr/bin/env bash
# Installs what textcnn needs, builds it, runs every unit test (CTest + Boost.Test), then the
# consumer test: a program built against the installed package (tests/consumer/run.sh); then
# the reliability checks (README "Reliability"): fault tests, the suite under ASan+UBSan, the
# concurrency tests under TSan and a 30 s run of each fuzz target (each in its own build dir).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh" -DTEXTCNN_PYTHON=ON   # the Python package and its pytest tests too
build=${TEXTCNN_BUILD_DIR:-$root/build}
cd "$build"
ctest --output-on-failure -j "$(nproc)"
bash "$root/tests/consumer/run.sh"
# Reliability (issue 15); TEXTCNN_SKIP_RELIABILITY=1 skips them for a quick local run.
if [[ -z ${TEXTCNN_SKIP_RELIABILITY:-} ]]; then
  bash "$root/scripts/fault_tests.sh" "$build"
  bash "$root/scripts/sanitize.sh"
  bash "$root/scripts/tsan.sh"
  bash "$root/scripts/fuzz.sh" 30
fi
