#!/usr/bin/env bash
# Installs what textcnn needs, builds it, runs every unit test (CTest + Boost.Test), then the
# consumer test: a program built against the installed package (tests/consumer/run.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh" -DTEXTCNN_PYTHON=ON   # the Python package and its pytest tests too
build=${TEXTCNN_BUILD_DIR:-$root/build}
cd "$build"
ctest --output-on-failure -j "$(nproc)"
bash "$root/tests/consumer/run.sh"
